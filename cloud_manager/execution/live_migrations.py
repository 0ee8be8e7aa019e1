"""``LiveMigrate`` actions of a balancing or DRS task: one guard before every request,
progress from Nova's live-migration records.

HA always wins: before each migration the aggregate is read again, and the task aborts (the
item back to pending, nothing sent) when the aggregate lost its flag or one of the two hosts,
or when either host is no longer fit (down, disabled, in maintenance, in an HA incident).
A migration already running is left to Nova.
"""

from __future__ import annotations

import logging
from datetime import datetime

from cloud_manager.balancing.load import is_flagged
from cloud_manager.db import api as db_api
from cloud_manager.execution.balancing_inventory import node_exclusions, why_not_movable
from cloud_manager.execution.fencing import TaskAborted
from cloud_manager.execution.instance_actions import CLOCK_SKEW_MARGIN
from cloud_manager.execution.records import Item, TaskRecords
from cloud_manager.ha.outcome import Judgement, Outcome
from cloud_manager.heartbeat import Heartbeats
from cloud_manager.model.actions import ActionKind
from cloud_manager.model.task_state import ItemState
from cloud_manager.nova import LiveMigration, NovaError
from cloud_manager.runtime import Runtime

LOG = logging.getLogger(__name__)

FINISHED = frozenset({"completed", "done"})
FAILED = frozenset({"error", "failed", "cancelled"})


def judge_live_migration(record: LiveMigration | None, server_status: str | None,
                         server_host: str | None, target: str | None) -> Judgement:
    """From the migration record (None: not created yet) and, once it failed, the server."""
    if record is not None and record.status in FINISHED:
        host = record.dest_host or target
        return Judgement(Outcome.DONE, f"live-migrated to {host}", host)
    if record is None or record.status not in FAILED:
        return Judgement(Outcome.MOVING)
    if server_status is None or server_status == "DELETED":
        return Judgement(Outcome.GONE)
    if server_host == target and server_status == "ACTIVE":
        return Judgement(Outcome.DONE, f"ACTIVE on {target}", target)
    return Judgement(Outcome.ERROR, f"live migration {record.status}; server {server_status} "
                                    f"on {server_host}")


def abort_reason(aggregate_hosts: tuple[str, ...] | None, flagged: bool,
                 source: str | None, target: str, unfit: dict[str, str]) -> str | None:
    """Why the next migration must not be sent (None: it may); pure, for the guard."""
    if aggregate_hosts is None:
        return "the aggregate was deleted"
    if not flagged:
        return "the aggregate's balancing flag was removed"
    for role, host in (("source", source), ("target", target)):
        if host not in aggregate_hosts:
            return f"{role} host {host} left the aggregate"
    return unfit_reason(source, target, unfit)


def unfit_reason(source: str | None, target: str, unfit: dict[str, str]) -> str | None:
    """Why either host may not take part in a migration now (None: both may)."""
    for role, host in (("source", source), ("target", target)):
        if host in unfit:
            return f"{role} host {host}: {unfit[host]}"
    return None


class LiveMigrations:
    """The ``ActionHandler`` of ``LiveMigrate`` items of one balancing or DRS task.

    ``aggregate``: the balanced aggregate, whose changes abort the task; None for a DRS task
    (Watcher's audit chose the hosts): only the hosts' fitness is guarded.
    """

    kind = ActionKind.LIVE_MIGRATE

    def __init__(self, runtime: Runtime, records: TaskRecords, heartbeats: Heartbeats,
                 aggregate: str | None, task_created_at: datetime, mark: int,
                 total: int) -> None:
        self.runtime, self.records, self.heartbeats = runtime, records, heartbeats
        self.aggregate, self.mark, self.total = aggregate, mark, total
        self.since = task_created_at - CLOCK_SKEW_MARGIN
        self.sent_count = 0

    def sent(self) -> dict[str, LiveMigration]:
        return {iid: record for iid, record
                in self.runtime.nova.live_migrations_since(self.since).items()
                if record.id > self.mark}

    def send(self, item: Item) -> None:
        nova = self.runtime.nova
        server = nova.server(item.instance_id)
        if server is None:
            raise NovaError(f"server {item.instance_id} no longer exists")
        reason = self._guard(server.host, item.target_host or "")
        if reason is not None:
            self.records.move_item(item, ItemState.PENDING, message=f"not sent: {reason}")
            what = f"balancing of {self.aggregate}" if self.aggregate else "DRS task"
            raise TaskAborted(f"{what} stopped: {reason}")
        why = why_not_movable(server)
        if why:
            raise NovaError(f"cannot live-migrate {server.name}: {why}")
        self.sent_count += 1
        self.records.progress(f"live-migrating {server.name} {server.host} -> "
                              f"{item.target_host} ({self.sent_count} of {self.total} sent)")
        nova.live_migrate(item.instance_id, item.target_host or "")

    def judge(self, item: Item, sent: dict[str, LiveMigration]) -> Judgement:
        record = sent.get(item.instance_id)
        if record is None or record.status not in FAILED:
            return judge_live_migration(record, None, None, item.target_host)
        server = self.runtime.nova.server(item.instance_id)
        return judge_live_migration(record, server.status if server else None,
                                    server.host if server else None, item.target_host)

    def _guard(self, source: str | None, target: str) -> str | None:
        nova = self.runtime.nova
        unfit = dict(node_exclusions(self.runtime))
        now = db_api.from_timestamp(self.records.clock())
        last_seen = self.heartbeats.last_seen()
        for service in nova.compute_services():
            if service.host in (source, target) and service.host not in unfit:
                if not service.enabled:
                    unfit[service.host] = "nova-compute disabled"
                elif not self.heartbeats.usable_by_nova(service, last_seen, now):
                    unfit[service.host] = "down"
        if self.aggregate is None:
            return unfit_reason(source, target, unfit)
        found = next((a for a in nova.aggregates() if a.name == self.aggregate), None)
        return abort_reason(found.hosts if found else None,
                            bool(found and is_flagged(found.metadata)), source, target, unfit)
