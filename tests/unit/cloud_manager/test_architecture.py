"""The import rule of docs/architecture.md, checked over the import graph.

Imports inside functions count: a lazy import hides a dependency, it does not remove it. A
module in no room fails the test, so a new module is placed on purpose (see the docs).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
CM = "cloud_manager"

# room: the rooms it may import (besides its own). The longest matching prefix is a module's room.
_ROOMS = {
    f"{CM}": (),
    f"{CM}.conf": (),
    f"{CM}.module": ("conf",),
    # pure: decisions over plain data
    f"{CM}.model": (),
    f"{CM}.ha": ("model",),
    f"{CM}.balancing": ("model",),
    f"{CM}.inventory": ("model",),
    f"{CM}.drs": ("model",),
    f"{CM}.provisioning": ("model",),
    # storage and adapters (the edge)
    f"{CM}.db": ("model", "ha"),
    f"{CM}.nova": (),
    f"{CM}.cinder": ("model",),
    f"{CM}.power": (),
    f"{CM}.heartbeat": ("nova",),
    f"{CM}.agent_report": (),
    f"{CM}.watcher": ("drs",),
    f"{CM}.agent_protocol": (),
    f"{CM}.agent_endpoint": ("agent_protocol",),
    f"{CM}.agent_client": ("agent_protocol",),
    f"{CM}.agent": ("agent_report", "agent_endpoint", "agent_protocol"),
    f"{CM}.pxe_files": ("provisioning",),
    f"{CM}.dhcp_leases": ("provisioning",),
    f"{CM}.task_queue": ("module",),
    f"{CM}.runtime": ("module", "nova", "cinder", "power", "task_queue", "watcher",
                      "agent_client"),
    # services: the node service layer, the executor, periodic jobs
    f"{CM}.nodes": ("runtime", "db", "ha", "model", "provisioning"),
    f"{CM}.execution": ("runtime", "db", "ha", "model", "balancing", "inventory", "nova", "power",
                        "heartbeat", "agent_report", "drs", "watcher", "provisioning",
                        "pxe_files", "dhcp_leases", "agent_client"),
    f"{CM}.tracker": ("nodes", "execution", "runtime", "db", "ha", "model", "nova", "power",
                      "heartbeat", "agent_report"),
    f"{CM}.listener": ("runtime", "db", "model", "inventory"),
    f"{CM}.node_sync": ("nodes", "runtime", "db", "ha", "model", "inventory", "nova"),
    f"{CM}.storage_sync": ("runtime", "db", "model", "inventory", "cinder"),
    f"{CM}.balancer": ("runtime", "db", "model", "balancing", "execution", "heartbeat", "nova"),
    f"{CM}.drs_trigger": ("runtime", "db", "model", "drs", "execution", "watcher"),
    # entry points
    f"{CM}.api": ("nodes", "balancer", "balancing", "inventory", "nova", "runtime", "db", "model",
                  "conf", "module", "power", "drs_trigger", "watcher", "provisioning",
                  "agent_client"),
    f"{CM}.tasks": ("execution", "runtime", "task_queue"),
    f"{CM}.cmd": ("module", "runtime", "nova", "power", "tasks", "tracker", "agent", "listener",
                  "api", "balancer", "node_sync", "storage_sync", "drs_trigger"),
    # the CLI talks to the API only: no database, no runtime
    f"{CM}.cli": ("model", "conf", "power", "balancing"),
}
ROOMS = {room: frozenset(f"{CM}.{r}" for r in allowed) for room, allowed in _ROOMS.items()}


def _modules(package: str) -> dict[str, Path]:
    found = {}
    for path in (ROOT / package).rglob("*.py"):
        if "migrations" in path.parts:
            continue
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        found[name.removesuffix(".__init__")] = path
    return found


def _imports(path: Path, known: dict[str, Path]) -> set[str]:
    """The project modules ``path`` imports, anywhere in it."""
    def resolve(name: str) -> str | None:
        while name and name not in known:
            name = name.rpartition(".")[0]
        return name or None

    names: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:  # type-only imports are no dependency at run time
                visit(child)
            return
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(), str(path)))
    return {found for name in names if (found := resolve(name))}


def _room(module: str) -> str | None:
    rooms = [r for r in ROOMS if module == r or module.startswith(r + ".")]
    return max(rooms, key=len) if rooms else None


def _graph(*packages: str) -> dict[str, set[str]]:
    known = {}
    for package in packages:
        known |= _modules(package)
    return {module: _imports(path, known) - {module} for module, path in known.items()}


def test_every_cloud_manager_module_imports_only_what_its_room_may():
    graph = _graph(CM)
    homeless = sorted(m for m in graph if _room(m) is None)
    assert homeless == [], "place these modules in a room (docs/architecture.md)"
    broken = []
    for module, imported in sorted(graph.items()):
        room = _room(module)
        for target in sorted(imported):
            target_room = _room(target)
            if target_room != room and target_room not in ROOMS[room]:
                broken.append(f"{module} -> {target} ({room} may not import {target_room})")
    assert broken == []


def test_no_import_cycles():
    graph = _graph(CM, "aos")
    cycles, state = [], {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for target in sorted(graph.get(module, ())):
            if state.get(target) == "open":
                cycles.append(path[path.index(target):] + [target])
            elif target not in state:
                visit(target, path + [target])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []


def test_the_shared_core_imports_no_module_package():
    graph = _graph("aos", CM, "clouds")
    assert sorted(f"{m} -> {t}" for m, imported in graph.items() if m.startswith("aos")
                  for t in imported if not t.startswith("aos")) == []


def test_the_rule_can_fail():
    """A CLI module reaching for the database is caught (the test above is not vacuous)."""
    assert _room(f"{CM}.cli.tasks") == f"{CM}.cli"
    assert _room(f"{CM}.db.api") not in ROOMS[f"{CM}.cli"]
    assert f"{CM}.execution" not in ROOMS[f"{CM}.nodes"]
