"""Each host's RAM load before and after a plan: what ``balancing plan`` shows and the
benchmark measures."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from cloud_manager.balancing.hosts import AggregateLoads
from cloud_manager.balancing.planner import plan_balancing
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


def plan_document(model: CloudModel, aggregate: str, approx: float,
                  max_migrations: int) -> dict:
    """The dry run as plain data (the API's answer, the CLI's offline output): the plan's
    migrations in order, each host's load before and after, what stays and why."""
    plan = plan_balancing(model, aggregate, approx, max_migrations)
    report = load_report(model, aggregate, approx, plan)
    return {
        "aggregate": aggregate,
        "flagged": report.flagged,
        "approx": approx,
        "mean_load": round(report.mean, 4),
        "limit": round(report.mean + approx, 4),
        "migrations": [{"instance_id": a.instance.id, "instance_name": a.instance.name,
                        "ram_mb": a.instance.ram_mb, "source": a.instance.host,
                        "target": a.target_host} for a in plan.actions],
        "hosts": [{"host": h.host, "ram_mb": h.ram_mb,
                   "load_before": round(h.load_before, 4), "load_after": round(h.load_after, 4),
                   "loaded_before": h.loaded_before, "loaded_after": h.loaded_after}
                  for h in report.hosts],
        "left_out": [{"host": host, "reason": why} for host, why in report.left_out],
        "not_moved": [{"instance_id": n.instance.id, "instance_name": n.instance.name,
                       "host": n.instance.host, "reason": n.reason} for n in plan.skipped],
        "warnings": list(plan.warnings),
        "ram_moved_mb": report.ram_moved_mb,
        "stdev_before": round(report.stdev(after=False), 4),
        "stdev_after": round(report.stdev(after=True), 4),
    }
