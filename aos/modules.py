"""The registry of AOS modules (cloud_manager, clouds).

Modules register themselves through the ``aos.modules`` entry point group so that the shared core
never imports a module package directly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib.metadata import entry_points

from oslo_config import cfg

OptsList = Iterable[tuple[str | None, list[cfg.Opt]]]


@dataclass(frozen=True)
class Module:
    """What the core needs to know about a module to configure, migrate and run it."""

    name: str
    title: str
    #: prefix of console scripts and systemd units, e.g. ``aos-cloud-manager``
    service_prefix: str
    #: directory name under the log root, as in the spec's install steps
    log_dir_name: str
    #: Alembic ``script_location`` in ``package:path`` form
    migrations: str
    list_opts: Callable[[], OptsList]
    #: database name the sample URL points at
    database_name: str


class UnknownModule(LookupError):
    def __init__(self, name: str) -> None:
        known = ", ".join(names()) or "none installed"
        super().__init__(f"unknown module {name!r} (known modules: {known})")


def names() -> list[str]:
    return sorted(ep.name for ep in entry_points(group="aos.modules"))


def get(name: str) -> Module:
    for ep in entry_points(group="aos.modules"):
        if ep.name == name:
            return ep.load()
    raise UnknownModule(name)
