"""Make ``compute_driver = clouds_drivers.nova.virt.ec2.EC2Driver`` loadable by Nova.

Nova imports its driver as ``'nova.virt.' + compute_driver``, so only modules under the
``nova.virt`` package can be drivers. This import hook maps ``nova.virt.<pkg>.<...>`` to the
top-level module ``<pkg>.<...>`` whenever ``nova.virt`` has no such submodule, so the spec's
value works without copying files into Nova's package.

The wheel installs ``clouds_drivers_virt_alias.pth``, which calls ``install()`` at interpreter
start: it only puts the finder on ``sys.meta_path``. The finder answers nothing but names
starting with ``nova.virt.``, and only once ``nova.virt`` is imported: processes that never
import Nova pay one string comparison per import and nothing else.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
from typing import Any

PREFIX = "nova.virt."


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, target: str) -> None:
        self.target = target

    def create_module(self, spec: Any) -> Any:
        module = importlib.import_module(self.target)
        self._real_spec = module.__spec__
        return module

    def exec_module(self, module: Any) -> None:
        module.__spec__ = self._real_spec  # importlib overwrote it with the alias spec


class NovaVirtAliasFinder(importlib.abc.MetaPathFinder):
    """Resolve nova.virt.X... to X... when nova does not ship nova.virt.X."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if not fullname.startswith(PREFIX):
            return None
        rest = fullname[len(PREFIX):]
        top = rest.split(".", 1)[0]
        virt = sys.modules.get("nova.virt")
        if virt is None or _nova_has(virt, top):
            return None
        real = importlib.util.find_spec(rest)
        if real is None:
            return None
        is_package = real.submodule_search_locations is not None
        return importlib.machinery.ModuleSpec(fullname, _AliasLoader(rest), is_package=is_package)


def _nova_has(virt_pkg: Any, name: str) -> bool:
    return importlib.machinery.PathFinder.find_spec(name, list(virt_pkg.__path__)) is not None


def install() -> None:
    """Put the alias finder first on sys.meta_path (idempotent; never fails start-up)."""
    try:
        if not any(isinstance(f, NovaVirtAliasFinder) for f in sys.meta_path):
            sys.meta_path.insert(0, NovaVirtAliasFinder())
    except Exception:  # noqa: BLE001 - a .pth hook must never break an interpreter
        pass
