"""Balancing as a service: the dry run, the snapshot, the aggregate's flag, a run requested
as a durable task (the API and the periodic job share these), and the periodic job itself.

Errors are the DB layer's ``NotFound`` (no such aggregate) and ``Conflict`` (not flagged, a
run already active): the API answers 404 / 409.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from cloud_manager.balancing import BALANCING_KEY, is_flagged
from cloud_manager.balancing.hosts import UnknownAggregate
from cloud_manager.balancing.report import plan_document
from cloud_manager.balancing.schedule import aggregates_due
from cloud_manager.balancing.snapshot import to_snapshot
from cloud_manager.db import api as db_api
from cloud_manager.execution.balancing_inventory import read_balancing_model
from cloud_manager.heartbeat import Heartbeats
from cloud_manager.model.cloud import CloudModel
from cloud_manager.model.task_state import TaskKind, aggregate_of, aggregate_task_target
from cloud_manager.nova import HostAggregate
from cloud_manager.runtime import Runtime

LOG = logging.getLogger(__name__)
# How often the periodic job looks whether an aggregate is due (runs are hours apart).
CHECK_INTERVAL_S = 60.0


def _model(runtime: Runtime, aggregate: str) -> CloudModel:
    return read_balancing_model(runtime, Heartbeats(runtime.conf), time.time, aggregate).model


def _aggregate(runtime: Runtime, name: str) -> HostAggregate:
    for found in runtime.nova.aggregates():
        if found.name == name:
            return found
    raise db_api.NotFound(f"no host aggregate {name!r}")


def preview(runtime: Runtime, aggregate: str) -> dict[str, Any]:
    """The plan a run would follow now, with each host's load before and after."""
    conf = runtime.conf.balancing
    try:
        return plan_document(_model(runtime, aggregate), aggregate, conf.approx,
                             conf.max_migrations)
    except UnknownAggregate as exc:
        raise db_api.NotFound(str(exc)) from None


def export(runtime: Runtime, aggregate: str) -> dict[str, Any]:
    try:
        return to_snapshot(_model(runtime, aggregate), aggregate)
    except UnknownAggregate as exc:
        raise db_api.NotFound(str(exc)) from None


def set_flag(runtime: Runtime, aggregate: str, on: bool, by: str) -> dict[str, Any]:
    """Flag the aggregate for balancing (metadata ``balancing=yes``) or remove the flag."""
    found = _aggregate(runtime, aggregate)
    runtime.nova.set_aggregate_metadata(found.id, {BALANCING_KEY: "yes" if on else None})
    with runtime.transaction() as session:
        db_api.add_event(session, aggregate_task_target(aggregate), "action",
                         f"balancing {'on' if on else 'off'} by {by}")
    return {"aggregate": aggregate, "balancing": on, "hosts": list(found.hosts)}


def request_run(runtime: Runtime, aggregate: str, by: str,
                dispatch: Callable[[str], None] | None = None) -> dict[str, Any]:
    """One balancing task of a flagged aggregate, queued for a worker; its summary."""
    if not is_flagged(_aggregate(runtime, aggregate).metadata):
        raise db_api.Conflict(f"aggregate {aggregate!r} is not flagged for balancing: "
                              f"'openstack aos aggregate set-balancing {aggregate} yes' first")
    target, reason = aggregate_task_target(aggregate), f"balancing requested by {by}"
    with runtime.transaction() as session:
        if db_api.active_task(session, target) is not None:
            raise db_api.Conflict(f"aggregate {aggregate!r} is being balanced already")
        db_api.refuse_beside_excluded(session, TaskKind.BALANCING)
        task = db_api.create_task(
            session, hostname=target, kind=TaskKind.BALANCING, strategy="", reason=reason,
            lease=timedelta(seconds=runtime.conf.host_tasks.task_lease_time))
        db_api.add_event(session, target, "action", f"{reason}; task {task.id}")
        summary = {"id": task.id, "kind": task.kind, "hostname": target,
                   "state": task.state, "reason": reason}
    try:
        (dispatch or runtime.dispatch_task)(summary["id"])
    except Exception as exc:  # noqa: BLE001 - durable; the node tracker re-dispatches it
        LOG.warning("task %s stored but not queued (%s)", summary["id"], exc)
    return summary


def run_due(runtime: Runtime, now: float) -> list[str]:
    """Request a run of every flagged aggregate that is due; the aggregates asked for."""
    flagged = [a.name for a in runtime.nova.aggregates() if is_flagged(a.metadata)]
    with runtime.transaction() as session:
        last = {}
        for task in db_api.tasks(session, limit=1000):
            name = aggregate_of(task.hostname)
            if name is not None and task.kind == TaskKind.BALANCING and name not in last:
                last[name] = db_api.to_timestamp(task.created_at)
    period = 3600 * runtime.conf.balancing.periodic_time
    asked = []
    for name in aggregates_due(flagged, last, now, period):
        try:
            request_run(runtime, name, "periodic balancing")
            asked.append(name)
        except db_api.Conflict as exc:
            LOG.info("periodic balancing of %s skipped: %s", name, exc)
    return asked


def run_forever(runtime: Runtime, is_leader: Callable[[], bool], stopped: Callable[[], bool],
                clock: Callable[[], float] = time.time,
                sleep: Callable[[float], None] = time.sleep) -> None:
    """``[balancing] enabled``: on the leader, every aggregate due is balanced."""
    while not stopped():
        if is_leader():
            try:
                run_due(runtime, clock())
            except Exception:  # noqa: BLE001 - Nova or the database may be back next time
                LOG.exception("periodic balancing failed; trying again later")
        sleep(CHECK_INTERVAL_S)
