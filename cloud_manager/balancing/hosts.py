"""The hosts of one aggregate being balanced, updated move by move.

Shared by the planner and the benchmark's step-wise baseline so both obey the same rules: a
host left out (disabled, down, reserve, maintenance, HA incident) is neither source nor target;
a target never exceeds its free RAM, vCPU or disk (Placement's, allocation ratios included),
never becomes loaded and never ends further from the mean than it started; a source never
drops further below the mean than it was above it; anti-affinity groups never share a host;
affinity groups and instances that cannot live-migrate stay where they are.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace

from cloud_manager.balancing.load import is_flagged, is_loaded, mean_load, ram_load
from cloud_manager.model.cloud import Aggregate, CloudModel, Instance, ServerGroup, TargetHost

ANTI_AFFINITY = frozenset({"anti-affinity", "soft-anti-affinity"})
AFFINITY = frozenset({"affinity", "soft-affinity"})


class UnknownAggregate(LookupError):
    """The model has no aggregate of that name."""


@dataclass
class _Host:
    host: TargetHost
    used: float
    free_ram: int
    free_vcpus: int
    free_disk: int
    start: float  # load before any move
    instances: list[Instance]
    groups: Counter[str]


class AggregateLoads:
    """Load and room of the aggregate's hosts; ``move`` applies one live migration."""

    def __init__(self, model: CloudModel, aggregate: str, approx: float) -> None:
        self.aggregate = find_aggregate(model, aggregate)
        self.flagged = is_flagged(self.aggregate.metadata)
        self.approx = approx
        members = set(self.aggregate.hosts)
        self.left_out: list[tuple[str, str]] = []
        chosen: list[TargetHost] = []
        for host in sorted(model.hosts, key=lambda h: h.name):
            if host.name not in members:
                continue
            reason = left_out_because(host)
            if reason:
                self.left_out.append((host.name, reason))
            else:
                chosen.append(host)
        self.mean = mean_load((h.used_ram_mb, h.ram_mb) for h in chosen)
        self.group_of: dict[str, ServerGroup] = {
            member: group for group in model.server_groups for member in group.members}
        by_host: dict[str, list[Instance]] = {}
        groups_on: dict[str, Counter[str]] = {}
        for instance in model.instances:
            by_host.setdefault(instance.host, []).append(instance)
            group = self.group_of.get(instance.id)
            if group is not None:
                groups_on.setdefault(instance.host, Counter())[group.id] += 1
        self.hosts: dict[str, _Host] = {
            h.name: _Host(h, h.used_ram_mb, h.free_ram_mb, h.free_vcpus, h.free_disk_gb,
                          ram_load(h.used_ram_mb, h.ram_mb), by_host.get(h.name, []),
                          groups_on.get(h.name, Counter()))
            for h in chosen}
        # Hosts that gave instances away take none (nothing moves back and forth).
        self.gave: set[str] = set()
        # Targets by load, lowest first: (load, name).
        self._by_load = sorted((self.load(name), name) for name in self.hosts)

    # --- reading ---------------------------------------------------------------------------

    def load(self, name: str) -> float:
        h = self.hosts[name]
        return ram_load(h.used, h.host.ram_mb)

    def loaded(self, name: str) -> bool:
        return is_loaded(self.load(name), self.mean, self.approx)

    def loaded_hosts(self) -> list[str]:
        """Hosts above the mean plus approx, most loaded first."""
        return sorted((n for n in self.hosts if self.loaded(n)),
                      key=lambda n: (-self.load(n), n))

    def excess_mb(self, name: str) -> float:
        """RAM to move off the host for it to be loaded no more (<= 0: it is not)."""
        h = self.hosts[name]
        return h.used - (self.mean + self.approx) * h.host.ram_mb

    def removable_mb(self, name: str) -> float:
        """RAM the host may still give away without ending further below the mean than it
        started above it."""
        h = self.hosts[name]
        return h.used - (self.mean - abs(h.start - self.mean)) * h.host.ram_mb

    def room_mb(self, name: str) -> float:
        """RAM the host may still take: it must not become loaded nor end further above the
        mean than it started below it (a loaded host, a source, takes nothing)."""
        h = self.hosts[name]
        ceiling = self.mean + min(self.approx, abs(h.start - self.mean))
        return ceiling * h.host.ram_mb - h.used

    def why_pinned(self, instance: Instance) -> str:
        """Why the instance must stay (empty: it may live-migrate)."""
        if instance.not_movable:
            return instance.not_movable
        group = self.group_of.get(instance.id)
        if group is not None and group.policy in AFFINITY:
            return (f"member of {group.policy} server group {group.name or group.id}: its "
                    "members stay together")
        return ""

    def can_take(self, name: str, instance: Instance) -> bool:
        h = self.hosts[name]
        if instance.host == name or name in self.gave or self.loaded(name):
            return False
        if instance.az is not None and h.host.az is not None and h.host.az != instance.az:
            return False
        if (instance.ram_mb > h.free_ram or instance.vcpus > h.free_vcpus
                or instance.disk_gb > h.free_disk or instance.ram_mb > self.room_mb(name)):
            return False
        group = self.group_of.get(instance.id)
        return not (group is not None and group.policy in ANTI_AFFINITY
                    and h.groups[group.id] > 0)

    def targets_by_load(self) -> Iterator[str]:
        """Host names, least loaded first."""
        return (name for _, name in self._by_load)

    def most_loaded_first(self) -> list[str]:
        return [name for _, name in reversed(self._by_load)]

    def least_loaded_target(self, instance: Instance) -> str | None:
        return next((n for n in self.targets_by_load() if self.can_take(n, instance)), None)

    # --- moving ----------------------------------------------------------------------------

    def move(self, instance: Instance, target: str) -> Instance:
        """Apply one live migration; the instance as it is on its new host."""
        source = self.hosts[instance.host]
        dest = self.hosts[target]
        group = self.group_of.get(instance.id)
        for h, sign in ((source, -1), (dest, 1)):
            key = (ram_load(h.used, h.host.ram_mb), h.host.name)
            del self._by_load[bisect.bisect_left(self._by_load, key)]
            h.used += sign * instance.ram_mb
            h.free_ram -= sign * instance.ram_mb
            h.free_vcpus -= sign * instance.vcpus
            h.free_disk -= sign * instance.disk_gb
            if group is not None:
                h.groups[group.id] += sign
            bisect.insort(self._by_load, (ram_load(h.used, h.host.ram_mb), h.host.name))
        source.instances.remove(instance)
        self.gave.add(source.host.name)
        moved = replace(instance, host=target)
        dest.instances.append(moved)
        return moved


def find_aggregate(model: CloudModel, name: str) -> Aggregate:
    for aggregate in model.aggregates:
        if aggregate.name == name:
            return aggregate
    known = ", ".join(sorted(a.name for a in model.aggregates)) or "none"
    raise UnknownAggregate(f"no host aggregate {name!r} (known: {known})")


def left_out_because(host: TargetHost) -> str:
    """Why balancing neither takes from nor gives to this host (empty: it may)."""
    if host.excluded:
        return host.excluded
    if host.reserve:
        return "reserve node"
    if not host.up:
        return "down"
    if not host.enabled:
        return "nova-compute disabled"
    if host.ram_mb <= 0:
        return "no RAM inventory in Placement"
    return ""
