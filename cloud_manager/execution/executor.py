"""The durable executor: claims a host task, runs its steps, ends it; safe to run again.

Steps, each recorded before the next begins (Masakari's small named steps, on our own task
rows): **fence** the node (nothing else runs meanwhile), then at once **plan** (read the cloud
model, let the pure planner decide) and **tell Nova** it is fenced; **store** the plan as items;
**prepare** (the plan's host actions); run the **stages** of instance actions; **finish**.
A task resumed in ``evacuating`` skips what is done: its plan is stored, its items say which
requests went out, and Nova's records say which of those arrived.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy import exc as sa_exc

from cloud_manager.balancing import plan_balancing
from cloud_manager.db import api as db_api
from cloud_manager.execution.agent_preparation import prepare_shutdown
from cloud_manager.execution.balancing_inventory import read_balancing_model
from cloud_manager.execution.drs_plans import read_drs_plan
from cloud_manager.execution.fencing import Fencer, TaskAborted
from cloud_manager.execution.host_actions import HostActions
from cloud_manager.execution.instance_actions import Evacuations, StageRunner
from cloud_manager.execution.inventory import read_evacuation_inputs
from cloud_manager.execution.lease import LeaseRenewer
from cloud_manager.execution.live_migrations import LiveMigrations
from cloud_manager.execution.provisioning import Provisioner, ProvisioningError, settings_from
from cloud_manager.execution.records import ClaimedTask, LeaseLost, TaskRecords
from cloud_manager.execution.settings import TaskSettings
from cloud_manager.ha.evacuation_plan import Strategy
from cloud_manager.ha.evacuation_planner import plan_host_evacuation
from cloud_manager.ha.fencing import fence_for
from cloud_manager.ha.node_state import InvalidTransition, NodeState
from cloud_manager.heartbeat import Heartbeats
from cloud_manager.model.actions import ActionKind, Plan, SetServiceState
from cloud_manager.model.task_state import (
    InvalidTaskTransition,
    ItemState,
    TaskKind,
    TaskState,
    action_plan_of,
    aggregate_of,
)
from cloud_manager.nova import NovaError
from cloud_manager.power import PowerError
from cloud_manager.runtime import Runtime
from cloud_manager.watcher import WatcherError

LOG = logging.getLogger(__name__)

# Polls (poll_interval apart) of one live migration before it counts as timed out.
LIVE_MIGRATION_POLLS = 900

FENCED_BECAUSE = {TaskKind.MANUAL: "operator requested evacuation",
                  TaskKind.SHUTDOWN: "planned shutdown",
                  TaskKind.AUTOMATIC: "automatic evacuation"}


class NoHandler(Exception):
    """A plan holds an action this executor cannot run yet."""


class TaskExecutor:
    """Runs one host task to its end for ``owner`` (one owner per run)."""

    def __init__(self, runtime: Runtime, owner: str, clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        """``clock`` stamps records and reads report ages; deadlines run on ``monotonic``
        (a wall clock set back or forward must not stretch or cut a wait)."""
        self.runtime, self.owner, self.clock, self.sleep = runtime, owner, clock, sleep
        self.monotonic = monotonic
        self.settings = TaskSettings.from_conf(runtime.conf)
        self.lease = timedelta(seconds=self.settings.lease_seconds)
        self.heartbeats = Heartbeats(runtime.conf)

    def run(self, task_id: str) -> TaskState | None:
        """The task's final state; None when it is not ours to run."""
        records = TaskRecords(self.runtime, task_id, self.owner, self.lease, self.clock)
        try:
            task = records.claim()
        except db_api.NotFound:
            # A queued message outlived its row (database restored or recreated).
            LOG.warning("task %s is not in the database; message dropped", task_id)
            return None
        if task is None:
            LOG.info("task %s is final or held by another worker; skipping", task_id)
            return None
        LOG.info("task %s: %s of node %s (resuming from %s)", task_id, task.kind, task.host,
                 task.state)
        with LeaseRenewer(records):
            try:
                return self._run_to_end(task, records)
            except LeaseLost as exc:
                # Another worker runs it now: stop without another call or write.
                LOG.warning("task %s: %s; stopping", task_id, exc)
                return None

    def _run_to_end(self, task: ClaimedTask, records: TaskRecords) -> TaskState:
        """The task's steps, then its final state; how it failed ends it too."""
        try:
            return self._run(task, records)
        except LeaseLost:
            raise
        except TaskAborted as exc:
            return records.end(TaskState.ABORTED, str(exc))
        except (PowerError, NovaError, WatcherError, NoHandler, InvalidTransition,
                InvalidTaskTransition, ProvisioningError) as exc:
            LOG.exception("task %s failed", task.id)
            return records.end(TaskState.FAILED, str(exc))
        except sa_exc.DBAPIError:
            raise  # the database is away: the lease expires, the tracker queues it again
        except Exception as exc:  # noqa: BLE001 - e.g. an undecryptable device secret
            # Re-queued, it would fail the same way forever: end it with an alert.
            LOG.exception("task %s cannot run", task.id)
            return records.end(TaskState.FAILED, f"cannot run: {type(exc).__name__}: {exc}")

    def _run(self, task: ClaimedTask, records: TaskRecords) -> TaskState:
        if task.kind in (TaskKind.BALANCING, TaskKind.DRS):
            return self._balance(task, records)
        if task.kind == TaskKind.PROVISIONING:
            return Provisioner(self.runtime, records, self.heartbeats,
                               settings_from(self.runtime.conf), self.clock, self.monotonic,
                               self.sleep).run(task)
        host_actions = HostActions(
            self.runtime, records, functools.partial(self.service_reporting,
                                                     usable_by_nova=True),
            self.settings.reserve_up_timeout, self.settings.poll_interval, self.monotonic,
            self.sleep)
        if task.state in (TaskState.PENDING, TaskState.FENCING):
            planned = self._fence_then_plan(task, records, host_actions)
        else:
            planned = self._plan(task)
        if planned is not None:
            plan, mark = planned
            records.store_plan(task.host, plan, mark)
            for action in plan.prepare:
                host_actions.apply(action)
        records.move_node(task.host, NodeState.EVACUATING, f"evacuation task {task.id} running",
                          only_from=(NodeState.FENCED,))
        items = records.items()
        kinds = {item.action for item in items if item.state in (ItemState.PENDING,
                                                                 ItemState.REQUESTED)}
        if kinds - {ActionKind.EVACUATE}:
            raise NoHandler(f"no handler for {', '.join(sorted(kinds))} actions yet")
        handler = Evacuations(self.runtime.nova, task.host, task.created_at,
                              records.migration_mark())
        StageRunner(records, handler, self.settings, self.monotonic, self.sleep).run(items)
        return records.finish(task.host, records.items())

    def _balance(self, task: ClaimedTask, records: TaskRecords) -> TaskState:
        """A balancing or DRS task: no fencing and no node state; plan, store, then one live
        migration at a time, each behind the guard of ``LiveMigrations.send``."""
        planned = self._plan(task)
        if planned is not None:
            plan, mark = planned
            records.store_plan(task.host, plan, mark)
            records.progress(plan.summary(), state=TaskState.MIGRATING)
        items = records.items()
        conf = self.runtime.conf.balancing
        settings = dataclasses.replace(self.settings, retries=max(conf.migration_retries, 1),
                                       max_in_flight=1, request_threads=1,
                                       max_polls=LIVE_MIGRATION_POLLS)
        aggregate = None if task.kind == TaskKind.DRS else aggregate_of(task.host) or task.host
        handler = LiveMigrations(self.runtime, records, self.heartbeats, aggregate,
                                 task.created_at,
                                 records.migration_mark(),
                                 sum(1 for i in items if i.action == ActionKind.LIVE_MIGRATE))
        StageRunner(records, handler, settings, self.clock, self.sleep).run(items)
        return records.finish(None, records.items())

    # --- steps ---------------------------------------------------------------------------

    def _fence_then_plan(self, task: ClaimedTask, records: TaskRecords,
                         host_actions: HostActions) -> tuple[Plan, int] | None:
        """Fence the node, then plan while Nova is told it is fenced.

        The node is isolated before this task starts other threads (see
        ``cloud_manager.execution.fencing``). Planning once the node is off also sees what
        really stayed on it after a power cycle or a planned shutdown.
        """
        if task.kind == TaskKind.SHUTDOWN and self.runtime.conf.agent.enabled:
            records.progress("asking the node agent to prepare the shutdown",
                             state=TaskState.FENCING)
            prepare_shutdown(self.runtime, task.host,
                             lambda kind, message: records.note(task.host, kind, message))
        records.progress("fencing the node", state=TaskState.FENCING)
        fencer = Fencer(self.runtime, self.settings, records.progress, records.hold,
                        self.service_reporting, self.clock, self.sleep, self.monotonic)
        how = fencer.fence(fence_for(task.host, task.kind, self.settings.power_cycle_first))
        with ThreadPoolExecutor(max_workers=1) as pool:
            planning = pool.submit(self._plan, task)
            records.move_node(task.host, NodeState.DOWN, f"{FENCED_BECAUSE[task.kind]}: {how}",
                              only_from=(NodeState.UP, NodeState.SUSPECT, NodeState.RECOVERING))
            host_actions.apply(SetServiceState(task.host, enabled=False, forced_down=True,
                                               reason=f"aos: fenced by task {task.id}"))
            records.move_node(task.host, NodeState.FENCED, f"{how}; nova-compute forced down",
                              task_state=TaskState.EVACUATING, task_message=f"fenced: {how}")
            return planning.result()

    def _plan(self, task: ClaimedTask) -> tuple[Plan, int] | None:
        """The plan of a task that has none yet (None when it has one), with the newest Nova
        migration record before it; reading and planner by the task's kind."""
        if task.kind in (TaskKind.BALANCING, TaskKind.DRS):
            with self.runtime.transaction() as session:
                if db_api.items(session, task.id):
                    return None
        if task.kind == TaskKind.DRS:
            read_drs = read_drs_plan(self.runtime,
                                     action_plan_of(task.host) or "")
            return read_drs.plan, read_drs.nova_migration_mark
        if task.kind == TaskKind.BALANCING:
            conf = self.runtime.conf.balancing
            read = read_balancing_model(self.runtime, self.heartbeats, self.clock,
                                        aggregate_of(task.host))
            return (plan_balancing(read.model, aggregate_of(task.host) or task.host,
                                   conf.approx, conf.max_migrations),
                    read.nova_migration_mark)
        inputs = read_evacuation_inputs(self.runtime, task.id, self.heartbeats,
                                        self.settings.default_priority, self.clock)
        if inputs is None:
            return None
        plan = plan_host_evacuation(inputs.model, task.host, Strategy(inputs.strategy))
        return plan, inputs.nova_migration_mark

    def service_reporting(self, host: str, usable_by_nova: bool = False) -> bool:
        """For hosts CloudManager has not forced down (power cycle, reserve nodes).

        ``usable_by_nova``: also up in Nova's eyes, as a host must be before it is enabled.
        """
        service, last_seen = self.runtime.nova.service(host), self.heartbeats.last_seen()
        now = db_api.from_timestamp(self.clock())
        if usable_by_nova:
            return self.heartbeats.usable_by_nova(service, last_seen, now)
        return self.heartbeats.is_reporting(service, last_seen, None, now)
