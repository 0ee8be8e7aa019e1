"""The evacuation planner: the first user of the planner contract (``cloud_manager.model``).

It turns the placement of ``plan_evacuation`` into actions: reserve hosts the placement uses are
powered on and enabled (leaving the reserve) before any instance moves, then one stage of
``Evacuate`` actions per recovery priority, highest first.
"""

from __future__ import annotations

from cloud_manager.ha.evacuation_plan import Strategy, plan_evacuation
from cloud_manager.model.actions import (
    Evacuate,
    HostAction,
    NotPlanned,
    Plan,
    PowerOn,
    SetServiceState,
    Stage,
)
from cloud_manager.model.cloud import CloudModel

RESERVE_TAKEN = "reserve node taken to receive evacuated instances"


def plan_host_evacuation(model: CloudModel, host: str, strategy: Strategy) -> Plan:
    """Evacuate every instance of ``model`` that is on ``host`` onto the model's hosts."""
    placement = plan_evacuation(model.instances, model.hosts, strategy, {host})
    prepare: list[HostAction] = []
    for reserve in placement.reserve_hosts_used:
        prepare += [PowerOn(reserve),
                    SetServiceState(reserve, enabled=True, reason=RESERVE_TAKEN,
                                    leave_reserve=True)]
    stages = tuple(
        Stage(group.priority, tuple(Evacuate(p.instance, p.target_host, str(p.pool))
                                    for p in group.placements))
        for group in placement.groups)
    return Plan(prepare=tuple(prepare), stages=stages,
                unplaced=tuple(NotPlanned(u.instance, u.reason) for u in placement.unplaced),
                skipped=tuple(NotPlanned(s.instance, s.reason) for s in placement.skipped),
                warnings=model.warnings)
