"""Where each instance of the failed hosts runs again, and in which order.

The plan is computed up front from Placement-style free capacity so that the evacuation itself
only executes it: instances go out in priority groups, highest first, and no target host is ever
promised more RAM, vCPU or disk than it has free. The four strategies are Masakari's.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from cloud_manager.ha.priority import MAX_PRIORITY, MIN_PRIORITY

Pool = Literal["reserve", "auto"]


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
class Instance:
    id: str
    name: str
    host: str
    priority: int
    ram_mb: int
    vcpus: int
    disk_gb: int
    az: str | None = None


@dataclass(frozen=True)
class TargetHost:
    """A candidate target host; reserve hosts are kept disabled in Nova, so `enabled` is ignored."""

    name: str
    free_ram_mb: int
    free_vcpus: int
    free_disk_gb: int
    reserve: bool = False
    enabled: bool = True
    up: bool = True
    az: str | None = None


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
    capacity = _Capacity(hosts, failed_hosts)
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


Need = tuple[int, int, int]
GroupKey = tuple[Pool, str | None]
_ZERO_NEED: Need = (0, 0, 0)


class _Capacity:
    """Free capacity of the eligible target hosts, indexed for "most free RAM that fits".

    Hosts are grouped by (pool, az); az None is the whole pool, for instances that may run in any
    AZ. For each group and instance shape (RAM, vCPU, disk) a max-heap of (-free RAM, host) holds
    the hosts that can still take that shape, built on first use; shapes are flavors, so there
    are few. Free capacity only shrinks, which keeps the heaps cheap: a host that cannot take a
    shape is dropped for good, and an entry whose RAM is out of date is fixed when it surfaces.
    """

    def __init__(self, hosts: Sequence[TargetHost], failed_hosts: set[str]) -> None:
        if len({host.name for host in hosts}) != len(hosts):
            raise ValueError("target host names must be unique")
        eligible = sorted(
            (host for host in hosts if host.name not in failed_hosts and host.up), key=_by_name
        )
        self.names = [host.name for host in eligible]
        self.free_ram = [host.free_ram_mb for host in eligible]
        self.free_vcpus = [host.free_vcpus for host in eligible]
        self.free_disk = [host.free_disk_gb for host in eligible]
        self.members: dict[GroupKey, list[int]] = {}
        for index, host in enumerate(eligible):
            for key in _group_keys(host):
                self.members.setdefault(key, []).append(index)
        self.heaps: dict[tuple[GroupKey, Need], list[tuple[int, int]]] = {}

    def take(self, pool: Pool, az: str | None, need: Need) -> str | None:
        """Claim `need` on the pool's host with the most free RAM that fits; return its name."""
        index = self._most_free_ram(pool, az, need)
        if index is None:
            return None
        ram, vcpus, disk = need
        self.free_ram[index] -= ram
        self.free_vcpus[index] -= vcpus
        self.free_disk[index] -= disk
        return self.names[index]

    def explain_no_fit(self, pools: Sequence[Pool], instance: Instance) -> str:
        where = f" in az {instance.az}" if instance.az is not None else ""
        needs = (
            f"needs {instance.ram_mb} MB RAM, {instance.vcpus} vCPU, "
            f"{instance.disk_gb} GB disk{where}"
        )
        candidates = [
            index
            for pool in pools
            if (index := self._most_free_ram(pool, instance.az, _ZERO_NEED)) is not None
        ]
        if not candidates:
            return f"{needs}; no eligible target host in the {' or '.join(pools)} pool{where}"
        best = max(candidates, key=lambda index: (self.free_ram[index], -index))
        return (
            f"{needs}; largest free: {self.free_ram[best]} MB RAM, {self.free_vcpus[best]} vCPU, "
            f"{self.free_disk[best]} GB disk on {self.names[best]}"
        )

    def _most_free_ram(self, pool: Pool, az: str | None, need: Need) -> int | None:
        heap = self._heap((pool, az), need)
        ram, vcpus, disk = need
        while heap:
            negative_ram, index = heap[0]
            free_ram = self.free_ram[index]
            if free_ram < ram or self.free_vcpus[index] < vcpus or self.free_disk[index] < disk:
                heapq.heappop(heap)
            elif -negative_ram != free_ram:
                heapq.heapreplace(heap, (-free_ram, index))
            else:
                return index
        return None

    def _heap(self, group: GroupKey, need: Need) -> list[tuple[int, int]]:
        heap = self.heaps.get((group, need))
        if heap is None:
            ram, vcpus, disk = need
            heap = [
                (-self.free_ram[index], index)
                for index in self.members.get(group, ())
                if self.free_ram[index] >= ram
                and self.free_vcpus[index] >= vcpus
                and self.free_disk[index] >= disk
            ]
            heapq.heapify(heap)
            self.heaps[(group, need)] = heap
        return heap


def _by_name(host: TargetHost) -> str:
    return host.name


def _group_keys(host: TargetHost) -> list[GroupKey]:
    if host.reserve:
        pool: Pool = "reserve"
    elif host.enabled:
        pool = "auto"
    else:
        return []
    keys: list[GroupKey] = [(pool, None)]
    if host.az is not None:
        keys.append((pool, host.az))
    return keys
