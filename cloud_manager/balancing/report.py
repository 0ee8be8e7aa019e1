"""Each host's RAM load before and after a plan: what ``balancing plan`` shows and the
benchmark measures."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from cloud_manager.balancing.hosts import AggregateLoads
from cloud_manager.model.actions import Plan
from cloud_manager.model.cloud import CloudModel


@dataclass(frozen=True)
class HostLoad:
    host: str
    ram_mb: int
    used_before_mb: float
    used_after_mb: float
    load_before: float
    load_after: float
    loaded_before: bool
    loaded_after: bool


@dataclass(frozen=True)
class LoadReport:
    aggregate: str
    flagged: bool
    approx: float
    mean: float
    hosts: tuple[HostLoad, ...]
    left_out: tuple[tuple[str, str], ...]
    migrations: int
    ram_moved_mb: int

    def stdev(self, after: bool) -> float:
        loads = [h.load_after if after else h.load_before for h in self.hosts]
        return statistics.pstdev(loads) if loads else 0.0


def load_report(model: CloudModel, aggregate: str, approx: float, plan: Plan) -> LoadReport:
    """Apply the plan's migrations to a fresh balancing state and read the loads."""
    before = AggregateLoads(model, aggregate, approx)
    after = AggregateLoads(model, aggregate, approx)
    actions = plan.actions
    for action in actions:
        after.move(action.instance, action.target_host)
    hosts = tuple(
        HostLoad(name, before.hosts[name].host.ram_mb, before.hosts[name].used,
                 after.hosts[name].used, before.load(name), after.load(name),
                 before.loaded(name), after.loaded(name))
        for name in sorted(before.hosts))
    return LoadReport(aggregate, before.flagged, approx, before.mean, hosts,
                      tuple(before.left_out), len(actions),
                      sum(a.instance.ram_mb for a in actions))
