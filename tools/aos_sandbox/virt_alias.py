"""Make drivers that live outside nova loadable as `compute_driver`.

Nova imports the driver as 'nova.virt.' + CONF.compute_driver, so only modules under the
nova.virt package can be drivers. This import hook maps nova.virt.<pkg>.<...> to the
top-level module <pkg>.<...> whenever nova.virt has no such submodule, so both
`compute_driver = aos_sandbox.fakevirt.SandboxFakeDriver` and spec 000's
`compute_driver = clouds_drivers.nova.virt.ec2.EC2Driver` work without copying files
into nova's package.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys

PREFIX = "nova.virt."


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, target: str) -> None:
        self.target = target

    def create_module(self, spec):
        module = importlib.import_module(self.target)
        self._real_spec = module.__spec__
        return module

    def exec_module(self, module) -> None:
        module.__spec__ = self._real_spec  # importlib overwrote it with the alias spec


class NovaVirtAliasFinder(importlib.abc.MetaPathFinder):
    """Resolve nova.virt.X... to X... when nova does not ship nova.virt.X."""

    def find_spec(self, fullname, path, target=None):
        if not fullname.startswith(PREFIX):
            return None
        rest = fullname[len(PREFIX) :]
        top = rest.split(".", 1)[0]
        virt = sys.modules.get("nova.virt")
        if virt is None or _nova_has(virt, top):
            return None
        real = importlib.util.find_spec(rest)
        if real is None:
            return None
        is_package = real.submodule_search_locations is not None
        return importlib.machinery.ModuleSpec(fullname, _AliasLoader(rest), is_package=is_package)


def _nova_has(virt_pkg, name: str) -> bool:
    return importlib.machinery.PathFinder.find_spec(name, list(virt_pkg.__path__)) is not None


def install() -> None:
    """Put the alias finder first on sys.meta_path (idempotent)."""
    if not any(isinstance(f, NovaVirtAliasFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, NovaVirtAliasFinder())
