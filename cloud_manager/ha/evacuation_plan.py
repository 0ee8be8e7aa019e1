"""Where each instance of the failed hosts runs again, and in which order.

The plan is computed up front from Placement-style free capacity so that the evacuation itself
only executes it: instances go out in priority groups, highest first, and no target host is ever
promised more RAM, vCPU or disk than it has free. The four strategies are Masakari's.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from cloud_manager.ha.priority import MAX_PRIORITY, MIN_PRIORITY
from cloud_manager.model.capacity import Capacity, Pool
from cloud_manager.model.cloud import Instance, TargetHost

__all__ = ["EvacuationPlan", "Instance", "Placement", "PriorityGroup", "Skipped", "Strategy",
           "TargetHost", "Unplaced", "plan_evacuation"]


class Strategy(StrEnum):
    AUTO = "auto"
    RESERVED_HOST = "reserved_host"
    AUTO_PRIORITY = "auto_priority"
    RH_PRIORITY = "rh_priority"


POOLS_BY_STRATEGY: dict[Strategy, tuple[Pool, ...]] = {
    Strategy.AUTO: ("auto",),
    Strategy.RESERVED_HOST: ("reserve",),
    Strategy.AUTO_PRIORITY: ("auto", "reserve"),
    Strategy.RH_PRIORITY: ("reserve", "auto"),
}


@dataclass(frozen=True)
class Placement:
    instance: Instance
    target_host: str
    pool: Pool


@dataclass(frozen=True)
class PriorityGroup:
    priority: int
    placements: list[Placement]


@dataclass(frozen=True)
class Unplaced:
    instance: Instance
    reason: str


@dataclass(frozen=True)
class Skipped:
    instance: Instance
    reason: str


@dataclass(frozen=True)
class EvacuationPlan:
    """`reserve_hosts_used` must be powered on and enabled before the groups are evacuated."""

    groups: list[PriorityGroup] = field(default_factory=list)
    unplaced: list[Unplaced] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    reserve_hosts_used: list[str] = field(default_factory=list)


def plan_evacuation(
    instances: Sequence[Instance],
    hosts: Sequence[TargetHost],
    strategy: Strategy,
    failed_hosts: set[str],
) -> EvacuationPlan:
    """Place the instances of `failed_hosts` onto `hosts` following `strategy`.

    Within a priority group the largest instances are placed first, while most hosts still have
    room for them; each goes to the eligible host with the most free RAM, to spread the load.
    Instances of priority 0 or on hosts not listed as failed are skipped, never moved.
    """
    evacuable, skipped = _split_evacuable(instances, failed_hosts)
    evacuable.sort(key=lambda i: (-i.priority, -i.ram_mb, -i.vcpus, i.id))
    capacity = Capacity(hosts, failed_hosts)
    pools = POOLS_BY_STRATEGY[strategy]

    groups: list[PriorityGroup] = []
    unplaced: list[Unplaced] = []
    reserve_hosts_used: dict[str, None] = {}
    for priority, members in itertools.groupby(evacuable, key=lambda i: i.priority):
        placements: list[Placement] = []
        for instance in members:
            need = (instance.ram_mb, instance.vcpus, instance.disk_gb)
            for pool in pools:
                target = capacity.take(pool, instance.az, need)
                if target is not None:
                    placements.append(Placement(instance, target, pool))
                    if pool == "reserve":
                        reserve_hosts_used[target] = None
                    break
            else:
                unplaced.append(Unplaced(instance, capacity.explain_no_fit(pools, instance)))
        if placements:
            groups.append(PriorityGroup(priority, placements))
    return EvacuationPlan(groups, unplaced, skipped, list(reserve_hosts_used))


def _split_evacuable(
    instances: Sequence[Instance], failed_hosts: set[str]
) -> tuple[list[Instance], list[Skipped]]:
    evacuable: list[Instance] = []
    skipped: list[Skipped] = []
    seen_ids: set[str] = set()
    for instance in instances:
        if instance.id in seen_ids:
            raise ValueError(f"instance {instance.id} is listed twice")
        seen_ids.add(instance.id)
        if not MIN_PRIORITY <= instance.priority <= MAX_PRIORITY:
            raise ValueError(
                f"instance {instance.id}: recovery priority {instance.priority} "
                f"is outside {MIN_PRIORITY}-{MAX_PRIORITY}"
            )
        if instance.host not in failed_hosts:
            skipped.append(Skipped(instance, f"its host {instance.host} is not a failed host"))
        elif instance.priority == 0:
            skipped.append(Skipped(instance, "recovery priority 0: never evacuated"))
        else:
            evacuable.append(instance)
    return evacuable, skipped
