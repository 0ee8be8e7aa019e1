"""The durable executor: claim, lease, resume, retry, and how a failed action ends a task."""

from __future__ import annotations

import time
from datetime import timedelta

import pymysql
import pytest
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from cloud_manager.db import api as db_api
from cloud_manager.db.models import TaskItem
from cloud_manager.execution.executor import TaskExecutor
from cloud_manager.execution.records import TaskRecords
from cloud_manager.model.task_state import TaskKind, TaskState
from cloud_manager.nodes import request_task
from tests.unit.cloud_manager.conftest import HOSTS
from tests.unit.cloud_manager.test_evacuation import WorkerKilled, _with_power_device


class FakeTime:
    """A clock that moves only when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = time.time()

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def _task(runtime, *servers: str, kind: TaskKind = TaskKind.MANUAL, strategy="auto") -> str:
    for server in servers:
        runtime.nova.add_server(server, "c1", 5)
    with runtime.transaction() as session:
        db_api.ensure_nodes(session, HOSTS)
    return request_task(runtime, "c1", kind, strategy=strategy, force=True,
                        dispatch=lambda _id: None)["id"]


def _task_row(runtime, task_id: str):
    with runtime.transaction() as session:
        row = db_api.task(session, task_id)
        return row.state, row.message, row.owner, {i.instance_id: i.state for i in row.items}


def test_an_expired_lease_is_taken_over_and_the_task_run_to_its_end(make_runtime):
    runtime = make_runtime()
    task_id = _task(runtime, "vm1")
    with runtime.transaction() as session:  # w1 took it and died; its lease has run out
        assert db_api.claim_task(session, task_id, "w1", timedelta(seconds=-1))
    assert TaskExecutor(runtime, "w2").run(task_id) == "done"
    state, _, owner, items = _task_row(runtime, task_id)
    assert (state, owner, items) == ("done", None, {"vm1": "done"})
    assert TaskExecutor(runtime, "w3").run(task_id) is None  # final: nobody runs it again
    assert len(runtime.nova.evacuate_calls) == 1


def test_a_lease_renewal_fails_once_another_worker_holds_the_task(make_runtime):
    runtime = make_runtime()
    task_id = _task(runtime)
    lease = timedelta(seconds=60)
    w1, w2 = (TaskRecords(runtime, task_id, w, lease, time.time) for w in ("w1", "w2"))
    assert w1.claim() is not None
    assert w1.renew()
    assert w2.claim() is None  # held: not taken over
    with runtime.transaction() as session:
        db_api.task(session, task_id).lease_until = None
    assert w2.claim() is not None
    assert not w1.renew()
    assert w2.renew()


def test_a_task_resumed_after_all_its_requests_reached_nova_sends_none_again(make_runtime):
    runtime = make_runtime()
    task_id = _task(runtime, "vm1", "vm2")
    records_of = runtime.nova.evacuations_from

    def dies_at_first_poll(host, since):
        raise WorkerKilled("after sending")

    runtime.nova.evacuations_from = dies_at_first_poll
    with pytest.raises(WorkerKilled):
        TaskExecutor(runtime, "w1").run(task_id)
    runtime.nova.evacuations_from = records_of
    assert sorted(s for s, _ in runtime.nova.evacuate_calls) == ["vm1", "vm2"]
    with runtime.transaction() as session:
        db_api.task(session, task_id).lease_until = None

    assert TaskExecutor(runtime, "w2").run(task_id) == "done"
    assert len(runtime.nova.evacuate_calls) == 2
    assert _task_row(runtime, task_id)[3] == {"vm1": "done", "vm2": "done"}


def test_a_failed_host_action_fails_the_task_before_any_instance_moves(make_runtime):
    """The reserve node the plan needs never comes up: nothing is evacuated onto it."""
    runtime = make_runtime(node_tracker={"timeout_reserv_node_up": 1})
    _with_power_device(runtime, "c4", soft_off_reads=None)
    with runtime.transaction() as session:
        db_api.node(session, "c4").reserve = True
    runtime.nova.kill("c4")
    task_id = _task(runtime, "vm1", strategy="reserved_host")
    fake = FakeTime()
    started = fake.now
    assert TaskExecutor(runtime, "w1", fake.clock, fake.sleep, fake.clock).run(task_id) == "failed"
    state, message, owner, items = _task_row(runtime, task_id)
    assert "node c4 did not come up in 1 minutes" in message, message
    assert owner is None and items == {"vm1": "pending"}
    assert runtime.nova.evacuate_calls == []
    assert 60 <= fake.now - started <= 61


def test_an_action_without_a_handler_fails_the_task_and_is_never_sent(make_runtime):
    runtime = make_runtime()
    task_id = _task(runtime)
    with runtime.transaction() as session:
        db_api.add_items(session, task_id, [TaskItem(
            instance_id="vm9", priority=5, target_host="c2", action="live-migrate",
            state="pending")])
    assert TaskExecutor(runtime, "w1").run(task_id) == "failed"
    _, message, _, items = _task_row(runtime, task_id)
    assert message == "no handler for live-migrate actions yet"
    assert items == {"vm9": "pending"} and runtime.nova.evacuate_calls == []


def test_item_moves_are_conditional_on_the_state_last_seen(make_runtime):
    runtime = make_runtime()
    task_id = _task(runtime)
    records = TaskRecords(runtime, task_id, "w1", timedelta(seconds=60), time.time)
    assert records.claim() is not None
    with runtime.transaction() as session:
        db_api.add_items(session, task_id, [TaskItem(
            instance_id="vm1", priority=5, target_host="c2", state="pending")])
    stale = records.items()[0]
    stale.state = "requested"  # a snapshot the row no longer matches
    assert records.move_items([(stale, "pending", {})]) == []
    assert _task_row(runtime, task_id)[3] == {"vm1": "pending"}


def test_a_worker_whose_task_was_taken_over_stops_before_its_next_nova_call(make_runtime):
    """w1 stalls after its first request; its lease expires and w2 takes the task: w1 sends
    nothing more, writes nothing more, and does not end the task."""
    runtime = make_runtime(host_tasks={"evacuation_request_threads": 1})
    task_id = _task(runtime, "vm1", "vm2", "vm3")
    real_evacuate = runtime.nova.evacuate

    def evacuate_then_lose_the_lease(server_id, target):
        real_evacuate(server_id, target)
        if len(runtime.nova.evacuate_calls) == 1:
            with runtime.transaction() as session:
                db_api.task(session, task_id).lease_until = None  # expired meanwhile
                assert db_api.claim_task(session, task_id, "w2", timedelta(seconds=60))

    runtime.nova.evacuate = evacuate_then_lose_the_lease
    assert TaskExecutor(runtime, "w1").run(task_id) is None
    assert len(runtime.nova.evacuate_calls) == 1
    state, _, owner, items = _task_row(runtime, task_id)
    assert (state, owner) == ("evacuating", "w2")
    assert sorted(items.values()) == ["requested"] * 3  # w2 asks Nova which ones went out
    with runtime.transaction() as session:
        assert db_api.active_task(session, "c1").id == task_id


def test_lease_expiry_is_judged_on_the_databases_clock_not_the_workers(make_runtime):
    """A worker whose clock runs an hour ahead must not see a live lease as expired."""
    runtime = make_runtime()
    task_id = _task(runtime, "vm1")
    with runtime.transaction() as session:
        assert db_api.claim_task(session, task_id, "w1", timedelta(seconds=60))
    ahead = TaskExecutor(runtime, "w2", clock=lambda: time.time() + 3600)
    assert ahead.run(task_id) is None
    assert runtime.nova.evacuate_calls == []
    assert _task_row(runtime, task_id)[2] == "w1"


def test_two_active_tasks_of_one_node_cannot_exist(make_runtime, monkeypatch):
    """The constraint holds even when a check before the insert is fooled (two requests
    checking at once both find no active task)."""
    runtime = make_runtime()
    task_id = _task(runtime)
    monkeypatch.setattr(db_api, "active_task", lambda session, hostname: None)
    with pytest.raises(db_api.Conflict, match="already has an active task"):
        request_task(runtime, "c1", TaskKind.MANUAL, force=True, dispatch=lambda _id: None)
    with runtime.transaction() as session:
        assert [t.id for t in db_api.tasks(session, "c1")] == [task_id]
        db_api.end_task(session, db_api.task(session, task_id), TaskState.ABORTED, "t")
    second = request_task(runtime, "c1", TaskKind.MANUAL, force=True, dispatch=lambda _id: None)
    assert second["id"] != task_id  # an ended task frees the node's slot


@pytest.mark.timeout(60)  # on the wall clock this wait would never end
def test_deadlines_run_on_the_monotonic_clock_not_the_wall_clock(make_runtime):
    """The wall clock is set back two hours while waiting for a reserve node: the wait
    still ends after its timeout."""
    runtime = make_runtime(node_tracker={"timeout_reserv_node_up": 1})
    _with_power_device(runtime, "c4", soft_off_reads=None)
    with runtime.transaction() as session:
        db_api.node(session, "c4").reserve = True
    runtime.nova.kill("c4")
    task_id = _task(runtime, "vm1", strategy="reserved_host")
    fake = FakeTime()
    started = fake.now
    wall = {"offset": 0.0}

    def sleep(seconds: float) -> None:
        fake.sleep(seconds)
        wall["offset"] = -7200.0  # NTP steps the clock back

    executor = TaskExecutor(runtime, "w1", clock=lambda: fake.now + wall["offset"],
                            sleep=sleep, monotonic=fake.clock)
    assert executor.run(task_id) == "failed"
    assert "node c4 did not come up in 1 minutes" in _task_row(runtime, task_id)[1]
    assert 60 <= fake.now - started <= 61


def test_the_ownership_check_rides_on_the_tasks_own_update(make_runtime):
    """A task move is refused as a move (not as a lost lease), and a lost lease as such."""
    from cloud_manager.model.task_state import InvalidTaskTransition

    runtime = make_runtime()
    task_id = _task(runtime)
    lease = timedelta(seconds=60)
    records = TaskRecords(runtime, task_id, "w1", lease, time.time)
    assert records.claim() is not None
    records.progress("fenced", TaskState.EVACUATING)
    assert _task_row(runtime, task_id)[:3] == ("evacuating", "fenced", "w1")
    with pytest.raises(InvalidTaskTransition, match="cannot go from evacuating to fencing"):
        records.progress("again", TaskState.FENCING)
    with runtime.transaction() as session:
        db_api.task(session, task_id).owner = "w2"
    with pytest.raises(db_api.LeaseLost):
        records.progress("late", TaskState.EVACUATING)
    assert _task_row(runtime, task_id)[:3] == ("evacuating", "fenced", "w2")


def test_a_task_write_picked_as_a_deadlock_victim_is_written_again(make_runtime):
    """MySQL rolls one of two deadlocked transactions back (error 1213): the write is redone."""
    runtime = make_runtime()
    task_id = _task(runtime)
    records = TaskRecords(runtime, task_id, "w1", timedelta(seconds=60), time.time)
    assert records.claim() is not None
    victims: list[str] = []

    def deadlock_once(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("UPDATE tasks") and not victims:
            victims.append(statement)
            raise sa_exc.OperationalError(statement, parameters, pymysql.err.OperationalError(
                1213, "Deadlock found when trying to get lock; try restarting transaction"))

    engine = runtime.sessions.kw["bind"]
    sa.event.listen(engine, "before_cursor_execute", deadlock_once)
    try:
        records.progress("fencing the node", state=TaskState.FENCING)
    finally:
        sa.event.remove(engine, "before_cursor_execute", deadlock_once)
    assert len(victims) == 1
    assert _task_row(runtime, task_id)[:3] == ("fencing", "fencing the node", "w1")


def test_a_finished_move_is_written_into_the_inventory_at_once(make_runtime):
    """A plan made before the listener hears of the move must not see the instance where it
    was (balancing planned the same moves again right after a run)."""
    from datetime import datetime

    from cloud_manager.model.inventory import InstanceRecord

    runtime = make_runtime()
    task_id = _task(runtime, "vm1")
    long_ago = datetime(2026, 1, 1)
    with runtime.transaction() as session:
        db_api.write_instances(session, [InstanceRecord(
            id="vm1", name="vm1", host="c1", node="c1.example.org", state="active",
            task_state="rebuilding", ram_mb=512, changed_at=long_ago)])
    assert TaskExecutor(runtime, "w1").run(task_id) == "done"
    target = runtime.nova.servers["vm1"].host
    assert target != "c1"
    with runtime.transaction() as session:
        stored = db_api.inventory_instances(session)["vm1"]
    assert (stored.host, stored.node, stored.task_state) == (target, None, None)
    assert stored.changed_at > long_ago
