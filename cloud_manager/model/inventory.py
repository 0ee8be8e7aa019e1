"""CloudManager's own view of the compute nodes and their instances, as plain data.

node_sync fills it from Nova and Placement every ``sync_interval``; the listener keeps it
current between syncs from Nova's notifications. ``changed_at`` is when Nova said so (a
notification's time, or when a sync read it): an older word never overwrites a newer one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

RESOURCE_CLASSES = ("MEMORY_MB", "VCPU", "DISK_GB")


@dataclass(frozen=True)
class Resource:
    """One resource class of a Placement provider; ``used`` is Placement's usage at the sync."""

    total: int
    reserved: int = 0
    allocation_ratio: float = 1.0
    used: int = 0

    @property
    def capacity(self) -> int:
        return int((self.total - self.reserved) * self.allocation_ratio)


@dataclass(frozen=True)
class InstanceRecord:
    """An instance as Nova last described it; ``deleted`` keeps the word of a deletion until
    a sync confirms it, so that a late notification cannot bring the instance back."""

    id: str
    name: str
    host: str | None
    state: str
    changed_at: datetime
    node: str | None = None
    task_state: str | None = None
    ram_mb: int = 0
    vcpus: int = 0
    disk_gb: int = 0
    az: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)
    flavor_extra_specs: Mapping[str, str] = field(default_factory=dict)
    deleted: bool = False

    def same_as(self, other: InstanceRecord) -> bool:
        """Equal in what Nova says (the time said is not compared)."""
        return self.facts() == other.facts()

    def facts(self) -> tuple:
        # Not the zone: a notification may carry the instance's requested zone (None), the
        # API the zone of its host; the host's zone is taken from the host.
        return (self.name, self.host, self.node, self.state, self.task_state, self.ram_mb,
                self.vcpus, self.disk_gb, dict(self.metadata),
                dict(self.flavor_extra_specs), self.deleted)


@dataclass(frozen=True)
class ServiceRecord:
    """A nova-compute service's state as its last update said (not its heartbeat)."""

    host: str
    enabled: bool
    forced_down: bool
    disabled_reason: str | None
    changed_at: datetime


@dataclass(frozen=True)
class HostRecord:
    """A compute host: service host (Nova's services and instances name it) and hypervisor
    hostname (Placement's provider and ``OS-EXT-SRV-ATTR:hypervisor_hostname`` name it; in
    most libvirt clouds an FQDN where the service host is short)."""

    hostname: str
    hypervisor_hostname: str | None
    enabled: bool
    forced_down: bool
    disabled_reason: str | None
    changed_at: datetime
    az: str | None = None
    aggregates: tuple[str, ...] = ()
    resources: Mapping[str, Resource] = field(default_factory=dict)
    free_since: datetime | None = None

    def facts(self) -> tuple:
        return (self.hypervisor_hostname, self.enabled, self.forced_down,
                self.disabled_reason, self.az, tuple(self.aggregates),
                dict(self.resources), self.free_since)
