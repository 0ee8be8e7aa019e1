"""DRS as a service: what Watcher recommends and what AOS would do of it, a manual apply as a
durable task, and ``[drs_trigger]``'s periodic apply on the leader.

Taking an action plan = a DRS task row on ``drs:<plan uuid>`` (never deleted: a plan is
applied once), then the plan set ``CANCELLED`` in Watcher, the one final state Watcher lets a
client set (``SUCCEEDED`` and ``SUPERSEDED`` are its own): its applier will not run it too,
and the trigger does not see it again. Whether the migrations ran is the task's to say.
Errors: ``NotFound`` (no such plan), ``Conflict`` (not applicable, taken already),
``WatcherError`` (Watcher unreachable or refusing).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from aos.periodic import run_on_leader
from cloud_manager.db import api as db_api
from cloud_manager.drs.action_plan import RECOMMENDED, ActionPlan, is_applicable, plans_to_take
from cloud_manager.execution.drs_plans import read_drs_plan
from cloud_manager.model.actions import Plan
from cloud_manager.model.task_state import (
    TaskKind,
    drs_task_target,
)
from cloud_manager.runtime import Runtime
from cloud_manager.watcher import Watcher, WatcherError

LOG = logging.getLogger(__name__)


def _taken(runtime: Runtime, uuids: list[str]) -> dict[str, Any]:
    """The task that took each plan (only plans taken are keys)."""
    with runtime.transaction() as session:
        found = {}
        for uuid in uuids:
            task = db_api.last_task(session, drs_task_target(uuid))
            if task is not None:
                found[uuid] = {"id": task.id, "state": task.state}
        return found


def _document(action_plan: ActionPlan, plan: Plan, taken: dict[str, Any] | None
              ) -> dict[str, Any]:
    return {
        "uuid": action_plan.uuid, "state": action_plan.state,
        "audit": action_plan.audit_uuid, "audit_state": action_plan.audit_state,
        "strategy": action_plan.strategy, "applicable": is_applicable(action_plan),
        "task": taken,
        "migrations": [{"instance": a.instance.id, "instance_name": a.instance.name,
                        "source": a.instance.host, "target": a.target_host}
                       for a in plan.actions],
        "refused": [f"{n.instance.name}: {n.reason}" for n in plan.skipped]
        + list(plan.warnings),
    }


def preview(runtime: Runtime) -> list[dict[str, Any]]:
    """Every RECOMMENDED action plan: its migrations AOS would run, what it refuses, and
    the task that took it, if any."""
    listed = runtime.watcher.action_plans(RECOMMENDED)
    taken = _taken(runtime, [p.uuid for p in listed])
    out = []
    for listed_plan in listed:
        read = read_drs_plan(runtime, listed_plan.uuid)
        out.append(_document(read.action_plan, read.plan, taken.get(listed_plan.uuid)))
    return out


def request_apply(runtime: Runtime, uuid: str, by: str,
                  dispatch: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Take one applicable action plan: its DRS task, queued; the task's summary."""
    watcher = runtime.watcher
    try:
        action_plan = watcher.action_plan(uuid)
    except WatcherError as exc:
        if exc.status_code == 404:
            raise db_api.NotFound(f"no Watcher action plan {uuid!r}") from None
        raise
    target = drs_task_target(action_plan.uuid)
    reason = f"Watcher action plan {action_plan.uuid} applied by {by}"
    with runtime.transaction() as session:
        earlier = db_api.last_task(session, target)
        if earlier is not None:
            raise db_api.Conflict(f"action plan {action_plan.uuid} was taken by task "
                                  f"{earlier.id} ({earlier.state}): never applied twice")
        db_api.refuse_beside_excluded(session, TaskKind.DRS)
        if not is_applicable(action_plan):
            raise db_api.Conflict(
                f"action plan {action_plan.uuid} is {action_plan.state} (audit "
                f"{action_plan.audit_state}): only RECOMMENDED plans of SUCCEEDED audits "
                "are applied")
        task = db_api.create_task(
            session, hostname=target, kind=TaskKind.DRS, strategy=action_plan.strategy,
            reason=reason, lease=timedelta(seconds=runtime.conf.host_tasks.task_lease_time))
        db_api.add_event(session, target, "action", f"{reason}; task {task.id}")
        summary = {"id": task.id, "kind": task.kind, "hostname": target,
                   "state": task.state, "reason": reason}
    _cancel_in_watcher(watcher, action_plan.uuid)
    try:
        (dispatch or runtime.dispatch_task)(summary["id"])
    except Exception as exc:  # noqa: BLE001 - durable; the node tracker re-dispatches it
        LOG.warning("task %s stored but not queued (%s)", summary["id"], exc)
    return summary


def _cancel_in_watcher(watcher: Watcher, uuid: str) -> None:
    try:
        watcher.cancel(uuid)
    except WatcherError as exc:
        # The task is the record that counts; the trigger cancels it again next time.
        LOG.warning("action plan %s taken, but not cancelled in Watcher yet: %s", uuid, exc)


def apply_recommended(runtime: Runtime,
                      dispatch: Callable[[str], None] | None = None) -> str | None:
    """One trigger run: the oldest applicable plan no task took, unless a DRS task is still
    running (one plan at a time: a later audit saw the cloud before the earlier moves).
    Plans taken but still RECOMMENDED in Watcher are cancelled again. The task's id."""
    watcher = runtime.watcher
    listed = watcher.action_plans(RECOMMENDED)
    taken = _taken(runtime, [p.uuid for p in listed])
    for uuid in taken:
        _cancel_in_watcher(watcher, uuid)
    with runtime.transaction() as session:
        running = [t.id for t in db_api.active_tasks_of(session, TaskKind.DRS)]
    if running:
        LOG.info("DRS task %s still running; action plans wait", running[0])
        return None
    for action_plan in plans_to_take(listed, frozenset(taken)):
        try:
            return request_apply(runtime, action_plan.uuid, "drs_trigger", dispatch)["id"]
        except db_api.Conflict as exc:  # audit state or another controller, meanwhile
            LOG.info("action plan %s not taken: %s", action_plan.uuid, exc)
    return None


def run_forever(runtime: Runtime, is_leader: Callable[[], bool],
                stopped: Callable[[], bool]) -> None:
    """``[drs_trigger] enabled``: on the leader, every ``trigger_interval`` seconds."""

    def job() -> None:
        try:
            task_id = apply_recommended(runtime)
        except WatcherError as exc:
            LOG.warning("DRS trigger: %s; trying again in %ss", exc,
                        runtime.conf.drs_trigger.trigger_interval)
            return
        if task_id is not None:
            LOG.info("DRS trigger: task %s applies a Watcher action plan", task_id)

    run_on_leader(job, runtime.conf.drs_trigger.trigger_interval, is_leader, stopped, LOG,
                  "DRS trigger")

