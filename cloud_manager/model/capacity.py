"""Free capacity of target hosts, claimed instance by instance: the model HA and balancing share.

A planner asks for the host of a pool (and availability zone) with the most free RAM that fits
an instance's (RAM, vCPU, disk); claiming it shrinks that host's free capacity, so no host is
ever promised more than it has.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from typing import Literal

from cloud_manager.model.cloud import Instance, TargetHost

Pool = Literal["reserve", "auto"]

Need = tuple[int, int, int]
GroupKey = tuple[Pool, str | None]
_ZERO_NEED: Need = (0, 0, 0)


class Capacity:
    """Free capacity of the eligible target hosts, indexed for "most free RAM that fits".

    Hosts are grouped by (pool, az); az None is the whole pool, for instances that may run in any
    AZ. For each group and instance shape (RAM, vCPU, disk) a max-heap of (-free RAM, host) holds
    the hosts that can still take that shape, built on first use; shapes are flavors, so there
    are few. Free capacity only shrinks, which keeps the heaps cheap: a host that cannot take a
    shape is dropped for good, and an entry whose RAM is out of date is fixed when it surfaces.
    """

    def __init__(self, hosts: Sequence[TargetHost], excluded: set[str]) -> None:
        """``excluded``: hosts nothing may go to (the failed ones, a host being drained)."""
        if len({host.name for host in hosts}) != len(hosts):
            raise ValueError("target host names must be unique")
        eligible = sorted(
            (host for host in hosts if host.name not in excluded and host.up), key=_by_name
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
