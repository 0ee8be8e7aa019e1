"""What a storage sync changes: the stored pools against what Cinder says now.

Cinder's scheduler lists only the pools of cinder-volume services it holds for up, so a pool
missing from its list is judged by its service: down (the service is down), gone (no such
service any more, or the backend reports other pools but not this one), or not judged at all
(the service is up but the scheduler has no report of its backend yet, e.g. just restarted):
unknown is not down, the pool keeps its state. A pool gone for longer than the retention is
forgotten (an event says so), so a backend removed for good leaves the list in time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from cloud_manager.model.storage import PoolRecord, PoolReport, PoolState, VolumeService


@dataclass(frozen=True)
class PoolTransition:
    """A pool's state changed (``before`` None: a pool seen for the first time)."""

    pool: str
    before: PoolState | None
    after: PoolState
    reason: str
    hosts: tuple[str, ...]

    @property
    def message(self) -> str:
        if self.before is None:
            return f"storage pool {self.pool} discovered ({self.after}): {self.reason}"
        if self.after is PoolState.UP:
            return f"storage pool {self.pool} is up again (was {self.before}): {self.reason}"
        return f"storage pool {self.pool} is {self.after} (was {self.before}): {self.reason}"


@dataclass(frozen=True)
class StorageChanges:
    pools: tuple[PoolRecord, ...]
    transitions: tuple[PoolTransition, ...]
    unjudged: tuple[str, ...]  # pools missing from Cinder's report whose state stays as stored
    forgotten: tuple[PoolRecord, ...] = ()  # gone for longer than the retention: to delete


def _service_reason(service: VolumeService) -> str:
    since = f", last report {service.updated_at:%Y-%m-%d %H:%M:%S}" if service.updated_at else ""
    return f"cinder-volume {service.backend} is down{since}"


def _reported(report: PoolReport, service: VolumeService | None, users: tuple[str, ...],
              read_at: datetime) -> PoolRecord:
    down = service is not None and not service.up
    return PoolRecord(
        name=report.name, backend=report.backend,
        volume_backend_name=report.volume_backend_name, total_gb=report.total_gb,
        free_gb=report.free_gb, allocated_gb=report.allocated_gb,
        enabled=service.enabled if service else True,
        state=PoolState.DOWN if down else PoolState.UP,
        state_reason=_service_reason(service) if down and service else "reported by Cinder",
        state_since=read_at, hosts=users, reported_at=read_at)


def _missing(known: PoolRecord, service: VolumeService | None,
             reporting: set[str]) -> tuple[PoolState, str, bool] | None:
    """State, reason and enabled of a stored pool Cinder did not report; None: unknown."""
    if service is None:
        return PoolState.GONE, f"Cinder has no cinder-volume service {known.backend}", False
    if not service.up:
        return PoolState.DOWN, _service_reason(service), service.enabled
    if known.backend in reporting:
        return (PoolState.GONE, f"backend {known.backend} no longer reports this pool",
                service.enabled)
    return None


def storage_changes(stored: Mapping[str, PoolRecord], reports: Iterable[PoolReport],
                    services: Iterable[VolumeService], users: Mapping[str, tuple[str, ...]],
                    read_at: datetime, forget_gone_after: timedelta | None = None
                    ) -> StorageChanges:
    """The records to write and the state changes to announce; ``users``: the compute hosts
    with a volume of each pool attached; ``forget_gone_after``: None keeps gone pools."""
    service_of = {s.backend: s for s in services}
    pools: list[PoolRecord] = []
    transitions: list[PoolTransition] = []
    unjudged: list[str] = []
    forgotten: list[PoolRecord] = []

    def keep(record: PoolRecord, known: PoolRecord | None) -> None:
        if known is not None and known.state == record.state:
            record = replace(record, state_since=known.state_since)
        else:
            transitions.append(PoolTransition(record.name, known.state if known else None,
                                               record.state, record.state_reason,
                                               record.hosts))
        pools.append(record)

    reported = {r.name: r for r in reports}
    for name, report in sorted(reported.items()):
        keep(_reported(report, service_of.get(report.backend), users.get(name, ()), read_at),
             stored.get(name))
    reporting = {r.backend for r in reported.values()}
    for name, known in sorted(stored.items()):
        if name in reported:
            continue
        hosts = users.get(name, ())
        judged = _missing(known, service_of.get(known.backend), reporting)
        if judged is None:
            unjudged.append(name)
            pools.append(replace(known, hosts=hosts))
            continue
        state, reason, enabled = judged
        if (state is PoolState.GONE and known.state is PoolState.GONE
                and forget_gone_after is not None
                and read_at - known.state_since >= forget_gone_after):
            forgotten.append(known)
            continue
        if known.state == state:
            reason = known.state_reason  # the first reason stays, with its time
        keep(replace(known, state=state, state_reason=reason, enabled=enabled, hosts=hosts,
                     state_since=read_at), known)
    return StorageChanges(tuple(pools), tuple(transitions), tuple(unjudged), tuple(forgotten))
