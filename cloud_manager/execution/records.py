"""A running task's durable record: its state, its items, its node's state and history.

Every write is one short transaction through ``cloud_manager.db.api``; the executor keeps
plain snapshots (``ClaimedTask``, ``Item``) between them, never rows. Every write transaction
starts with the owner's conditional UPDATE of the lease (``db_api.hold_task``): a worker whose
task was taken over writes nothing and gets ``LeaseLost``, and since that UPDATE locks the
task's row, no takeover can slip in between the check and the writes.

A write that also changes the node locks the node's row first, as an API request for a new
task does (node, then task): two transactions taking the same rows in opposite orders are a
deadlock. Each write is one whole transaction and is run again when the database still picks
it as a deadlock victim (``retry_on_deadlock``); its snapshots change only after the commit.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from aos.db.retry import retry_on_deadlock
from cloud_manager.db import api as db_api
from cloud_manager.db.models import TaskItem
from cloud_manager.ha.node_state import NodeState, mark
from cloud_manager.ha.outcome import task_result
from cloud_manager.model.actions import Plan
from cloud_manager.model.task_state import ItemState, TaskKind, TaskState
from cloud_manager.runtime import Runtime

LeaseLost = db_api.LeaseLost

LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClaimedTask:
    id: str
    kind: TaskKind
    host: str
    state: TaskState
    strategy: str
    created_at: datetime


@dataclass
class Item:
    """One instance action as last stored."""

    instance_id: str
    action: str
    target_host: str | None
    priority: int
    state: ItemState
    attempts: int


class TaskRecords:
    """The records of one task as written by ``owner``, who holds it for ``lease`` at a time."""

    def __init__(self, runtime: Runtime, task_id: str, owner: str, lease: timedelta,
                 clock: Callable[[], float]) -> None:
        self.runtime, self.task_id, self.owner, self.lease = runtime, task_id, owner, lease
        self.clock = clock
        self.lost = threading.Event()

    @retry_on_deadlock
    def claim(self) -> ClaimedTask | None:
        """The task, now ours for a lease; None when it is final or held by another worker.

        Raises ``db_api.NotFound`` when the task is not in the database."""
        with self.runtime.transaction() as session:
            row = db_api.claim_task(session, self.task_id, self.owner, self.lease)
            if row is None:
                return None
            return ClaimedTask(row.id, TaskKind(row.kind), row.hostname, TaskState(row.state),
                               row.strategy, row.created_at)

    @contextlib.contextmanager
    def _owned(self, to_state: TaskState | None = None, node: str | None = None,
               **values) -> Iterator:
        """A transaction that writes only while the task is still ours (see the module); it
        also moves the task to ``to_state`` and sets ``values``. With ``node``, that node's row
        is locked first (the order of an API request)."""
        if self.lost.is_set():
            raise LeaseLost(f"task {self.task_id} is no longer held by {self.owner}")
        try:
            with self.runtime.transaction() as session:
                if node is not None:
                    db_api.node(session, node, lock=True)
                db_api.hold_task(session, self.task_id, self.owner, self.lease, to_state,
                                 **values)
                yield session
        except LeaseLost:
            self.lost.set()
            raise

    @retry_on_deadlock
    def hold(self) -> None:
        """Check that the task is still ours (and extend the lease): before an external call
        that follows a wait. Raises ``LeaseLost``."""
        with self._owned():
            pass

    def renew(self) -> bool:
        """Extend the lease; False once another worker has taken the task over."""
        try:
            self.hold()
        except LeaseLost:
            return False
        return True

    @retry_on_deadlock
    def progress(self, message: str, state: TaskState | None = None) -> None:
        with self._owned(state, message=message):
            pass

    def migration_mark(self) -> int:
        with self.runtime.transaction() as session:
            return db_api.task(session, self.task_id).nova_migration_mark or 0

    @retry_on_deadlock
    def store_plan(self, host: str, plan: Plan, nova_migration_mark: int | None) -> None:
        """The plan's instance actions as items, what it could not place as an alert."""
        rows = [TaskItem(instance_id=a.instance.id, instance_name=a.instance.name,
                         priority=a.instance.priority, target_host=a.target_host,
                         pool=a.pool, action=a.kind, state=ItemState.PENDING)
                for a in plan.actions]
        rows += [TaskItem(instance_id=n.instance.id, instance_name=n.instance.name,
                          priority=n.instance.priority, state=state, message=n.reason)
                 for state, left in ((ItemState.UNPLACED, plan.unplaced),
                                     (ItemState.SKIPPED, plan.skipped)) for n in left]
        with self._owned(message=plan.summary(),
                         nova_migration_mark=nova_migration_mark) as session:
            db_api.add_items(session, self.task_id, rows)
            for warning in plan.warnings:
                db_api.add_event(session, host, "warning", warning)
            if plan.unplaced:
                db_api.add_event(session, host, "alert", f"task {self.task_id}: "
                                 f"{len(plan.unplaced)} instance(s) do not fit anywhere: "
                                 + "; ".join(f"{u.instance.id}: {u.reason}"
                                             for u in plan.unplaced[:10]))
        LOG.info("task %s: plan for %s: %s", self.task_id, host, plan.summary())

    def items(self) -> list[Item]:
        """Every item of the task in one query, highest priority first."""
        with self.runtime.transaction() as session:
            return [Item(i.instance_id, i.action, i.target_host, i.priority,
                         ItemState(i.state), i.attempts)
                    for i in db_api.items(session, self.task_id)]

    @retry_on_deadlock
    def move_items(self, moves: Iterable[tuple[Item, ItemState, dict]],
                   placed: Mapping[str, str] | None = None) -> list[Item]:
        """Several item moves in one transaction (none without moves); each snapshot follows
        its row. Returns the items moved: one no longer in its snapshot's state is not.

        ``placed`` (instance id -> host, as Nova reported it) is written into the inventory
        in the same transaction, so a plan made before the listener hears of the move
        already sees the instance where it is."""
        moves = list(moves)
        if not moves:
            return []
        moved = []
        with self._owned() as session:
            for item, to_state, values in moves:
                if db_api.move_item(session, self.task_id, item.instance_id, item.state,
                                    to_state, **values):
                    moved.append((item, to_state, values))
            if placed:
                db_api.place_instances(session, placed, db_api.from_timestamp(self.clock()))
        for item, to_state, values in moved:
            item.state = to_state
            item.attempts = values.get("attempts", item.attempts)
        return [item for item, _, _ in moved]

    def move_item(self, item: Item, to_state: ItemState, **values) -> bool:
        return bool(self.move_items([(item, to_state, values)]))

    @retry_on_deadlock
    def move_node(self, host: str, to_state: NodeState, reason: str,
                  only_from: tuple[NodeState, ...] | None = None,
                  task_state: TaskState | None = None, task_message: str | None = None
                  ) -> None:
        """The node's move (skipped when it is there already or not in ``only_from``), and
        the task's, in one transaction."""
        task_values = {} if task_message is None else {"message": task_message}
        with self._owned(task_state, node=host, **task_values) as session:
            row = db_api.node(session, host)
            record = db_api.record_of(row)
            transition = None
            if record.state != to_state and not (only_from and record.state not in only_from):
                record, transition = mark(record, to_state, reason, self.clock())
                db_api.save_record(session, row, record, transition)
        if transition is not None:
            LOG.info("node %s", transition)

    @retry_on_deadlock
    def step(self, host: str, message: str, state: TaskState | None = None) -> None:
        """A step of the task done: the task's message and an event of the node."""
        with self._owned(state, message=message) as session:
            db_api.add_event(session, host, "action", f"task {self.task_id}: {message}")

    @retry_on_deadlock
    def provisioned(self, host: str, reserve: bool, ip: str | None, message: str) -> TaskState:
        """A provisioning task's end: the node out of maintenance (up) and, if asked, in the
        reserve pool, with the task done, in one transaction."""
        with self._owned(node=host) as session:
            row = db_api.node(session, host)
            record, transition = db_api.record_of(row), None
            if record.state == NodeState.MAINTENANCE:
                record, transition = mark(record, NodeState.UP, f"provisioned by task "
                                          f"{self.task_id}", self.clock())
                db_api.save_record(session, row, record, transition)
            row.maintenance = False
            if reserve and not row.reserve:
                row.reserve = True
                db_api.add_event(session, host, "action", f"reserve on by task {self.task_id}: "
                                 "added as a reserve node")
            provisioning = db_api.provisioning(session, host)
            if provisioning is not None and ip:
                provisioning.ip = ip
            db_api.end_task(session, db_api.task(session, self.task_id), TaskState.DONE,
                            message)
        if transition is not None:
            LOG.info("node %s", transition)
        LOG.info("task %s done: %s", self.task_id, message)
        return TaskState.DONE

    def note(self, host: str, kind: str, message: str) -> None:
        """An event of the task's node, written only while the task is ours."""
        with self._owned() as session:
            db_api.add_event(session, host, kind, message)

    @retry_on_deadlock
    def leave_reserve(self, host: str, why: str) -> None:
        with self._owned(node=host) as session:
            db_api.node(session, host).reserve = False
            db_api.add_event(session, host, "action", why)

    @retry_on_deadlock
    def end(self, state: TaskState, message: str, host: str | None = None) -> TaskState:
        """The task's final state; with ``host``, the node is marked evacuated in the same
        transaction (if it is evacuating)."""
        with self._owned(node=host) as session:
            transition = None
            if host is not None:
                row = db_api.node(session, host)
                record = db_api.record_of(row)
                if record.state == NodeState.EVACUATING:
                    record, transition = mark(record, NodeState.EVACUATED,
                                              f"evacuation task {self.task_id}: {message}",
                                              self.clock())
                    db_api.save_record(session, row, record, transition)
            db_api.end_task(session, db_api.task(session, self.task_id), state, message)
        if transition is not None:
            LOG.info("node %s", transition)
        alert = state != TaskState.DONE
        (LOG.error if alert else LOG.info)("task %s %s: %s", self.task_id, state, message)
        return state

    def finish(self, host: str | None, items: list[Item]) -> TaskState:
        """The task's final state from its items; the node (if any) is then evacuated."""
        counts: dict[str, int] = {}
        for item in items:
            counts[item.state] = counts.get(item.state, 0) + 1
        summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "no instances"
        return self.end(task_result(counts), summary, host=host)
