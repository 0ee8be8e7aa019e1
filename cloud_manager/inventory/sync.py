"""What a sync changes: the stored inventory against what Nova and Placement say now.

Anything the listener missed (a lost notification, the listener stopped) differs from the
live read; a sync repairs it and names each repair. A stored record newer than the sync's read
(a notification that arrived meanwhile) is left alone: it is the later word.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from cloud_manager.model.inventory import HostRecord, InstanceRecord


@dataclass(frozen=True)
class Repair:
    """One difference fixed: ``kind`` is added, moved, changed or removed; ``host`` is the
    compute host concerned (an instance's current one)."""

    kind: str
    what: str
    message: str
    host: str | None = None


@dataclass(frozen=True)
class SyncChanges:
    instances: tuple[InstanceRecord, ...]
    removed: tuple[str, ...]
    hosts: tuple[HostRecord, ...]
    removed_hosts: tuple[str, ...]
    repairs: tuple[Repair, ...]


def _instance_repair(known: InstanceRecord | None, live: InstanceRecord) -> Repair | None:
    if known is None or known.deleted:
        return Repair("added", live.id, f"instance {live.id} ({live.name}) on {live.host} "
                      "was missing", live.host)
    if known.same_as(live):
        return None
    if known.host != live.host:
        return Repair("moved", live.id, f"instance {live.id} is on {live.host}, "
                      f"not {known.host}", live.host)
    changed = [name for name, a, b in (
        ("state", known.state, live.state), ("task_state", known.task_state, live.task_state),
        ("flavor", (known.ram_mb, known.vcpus, known.disk_gb),
         (live.ram_mb, live.vcpus, live.disk_gb)),
        ("metadata", dict(known.metadata), dict(live.metadata))) if a != b]
    return Repair("changed", live.id,
                  f"instance {live.id}: {', '.join(changed) or 'details'} out of date",
                  live.host)


def sync_changes(stored_instances: Mapping[str, InstanceRecord],
                 live_instances: Mapping[str, InstanceRecord],
                 stored_hosts: Mapping[str, HostRecord],
                 live_hosts: Mapping[str, HostRecord],
                 read_at: datetime) -> SyncChanges:
    """Writes and removals that make the inventory what the live read (taken at ``read_at``)
    says, and the repairs among them (first fills and routine capacity changes are no
    repairs; a host that appeared or went is)."""
    writes, repairs, removed = [], [], []
    for key, live in live_instances.items():
        known = stored_instances.get(key)
        if known is not None and known.changed_at > read_at:
            continue
        if known is None or not known.same_as(live):
            writes.append(live)
            repair = _instance_repair(known, live)
            if repair is not None and stored_instances:
                repairs.append(repair)
    for key, known in stored_instances.items():
        if key in live_instances or known.changed_at > read_at:
            continue
        removed.append(key)
        if not known.deleted:
            repairs.append(Repair("removed", key, f"instance {key} ({known.name}) is no "
                                  f"longer in Nova (was on {known.host})", known.host))
    host_writes, removed_hosts = [], []
    for key, live in live_hosts.items():
        known = stored_hosts.get(key)
        if known is not None and known.changed_at > read_at:
            # A service update after the read: keep its service state, take the rest.
            live = replace(live, enabled=known.enabled, forced_down=known.forced_down,
                           disabled_reason=known.disabled_reason, changed_at=known.changed_at)
        if known is None or known.facts() != live.facts():
            host_writes.append(live)
        if known is None and stored_hosts:
            repairs.append(Repair("added", key, f"compute host {key} was missing", key))
        elif known is not None and (known.enabled, known.forced_down) != (
                live.enabled, live.forced_down):
            repairs.append(Repair("changed", key, f"compute host {key}: service state out of "
                                  "date", key))
    for key in stored_hosts:
        if key not in live_hosts:
            removed_hosts.append(key)
            repairs.append(Repair("removed", key, f"compute host {key} is no longer in Nova",
                                  key))
    return SyncChanges(tuple(writes), tuple(removed), tuple(host_writes), tuple(removed_hosts),
                       tuple(repairs))
