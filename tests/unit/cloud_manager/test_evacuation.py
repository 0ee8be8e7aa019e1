"""Tracker and host-task executor with Nova replaced by an in-memory adapter."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest

from cloud_manager.db import api as db_api
from cloud_manager.execution.executor import TaskExecutor
from cloud_manager.model.task_state import TaskKind
from cloud_manager.nodes import request_task
from cloud_manager.power import PowerError
from cloud_manager.tracker import NodeTracker, run_forever
from tests.unit.cloud_manager.agents import agent_of as _agent_of
from tests.unit.cloud_manager.conftest import HOSTS
from tests.unit.cloud_manager.fake_nova import FakeNova
from tests.unit.cloud_manager.fake_nova import now as fake_now


def _request(runtime, host: str, kind: TaskKind, reason: str = "t") -> dict:
    """A host task as the tracker (AUTOMATIC) or an operator (forcing) asks; not queued."""
    return request_task(runtime, host, kind, strategy="auto", reason=reason,
                        force=kind == TaskKind.MANUAL, dispatch=lambda _id: None)


def _tracker(runtime) -> tuple[NodeTracker, list[str]]:
    dispatched: list[str] = []
    return NodeTracker(runtime, dispatched.append), dispatched


def _manual_task(runtime, *server_ids: str) -> dict:
    """An operator's evacuation of c1, where ``server_ids`` run with priority 5."""
    for server_id in server_ids:
        runtime.nova.add_server(server_id, "c1", 5)
    with runtime.transaction() as session:
        db_api.ensure_nodes(session, HOSTS)
    return _request(runtime, "c1", TaskKind.MANUAL, "t")


def _c1_dies_and_is_evacuated(runtime) -> tuple[NodeTracker, list[str]]:
    """c1 (running vm1) dies, its death proven by the storage check, and is evacuated."""
    from cloud_manager.agent_report import AgentReport, write_report

    write_report(runtime.conf.extra_availability_check.storage_path,
                 AgentReport("c1", 1.0, {}))
    runtime.nova.add_server("vm1", "c1", 5)
    tracker, dispatched = _tracker(runtime)
    tracker.check()
    runtime.nova.kill("c1")
    tracker.check()
    tracker.check()
    assert TaskExecutor(runtime, "w1").run(dispatched[0]) == "done"
    return tracker, dispatched


class WorkerKilled(BaseException):
    """The worker process dies (not an error any code of it handles)."""


def _worker_dies_mid_request(runtime, task_id: str, sent: list[str]) -> None:
    """A worker fenced, planned and marked its items requested, got only ``sent`` to Nova
    and died while sending the others; its lease then expired."""
    real_evacuate = runtime.nova.evacuate

    def evacuate(server_id, target):
        if server_id not in sent:
            raise WorkerKilled(server_id)
        real_evacuate(server_id, target)

    runtime.nova.evacuate = evacuate
    with pytest.raises(WorkerKilled):
        TaskExecutor(runtime, "w1").run(task_id)
    runtime.nova.evacuate = real_evacuate
    with runtime.transaction() as session:
        states = {i.instance_id: i.state for i in db_api.task(session, task_id).items}
        assert set(states.values()) == {"requested"}, states
        db_api.task(session, task_id).lease_until = None
    assert sorted(s for s, _ in runtime.nova.evacuate_calls) == sorted(sent)
    runtime.nova.evacuate_calls.clear()


STORAGE_CHECK = {"enabled": "true", "delay": 0, "attempts": 2}


def test_dead_host_without_power_device_is_not_evacuated_automatically(make_runtime):
    runtime = make_runtime()
    nova = runtime.nova
    nova.add_server("vm1", "c1", 5)
    tracker, dispatched = _tracker(runtime)
    tracker.check()
    nova.kill("c1")
    tracker.check()
    tracker.check()
    with runtime.transaction() as session:
        assert db_api.node(session, "c1").state == "down"
    assert len(dispatched) == 1
    state = TaskExecutor(runtime, "w1").run(dispatched[0])
    assert state == "aborted"
    assert nova.evacuate_calls == []
    assert nova.servers["vm1"].host == "c1"
    with runtime.transaction() as session:
        task = db_api.task(session, dispatched[0])
        assert "cannot fence c1" in task.message


def test_storage_check_proves_death_then_evacuates_by_priority(make_runtime):
    runtime = make_runtime(extra_availability_check={"enabled": "true", "delay": 0,
                                                     "attempts": 2})
    nova = runtime.nova
    from cloud_manager.agent_report import AgentReport, write_report

    storage = runtime.conf.extra_availability_check.storage_path
    write_report(storage, AgentReport("c1", 1.0, {"vm-a": "running"}))
    for name, prio in [("vm-a", 2), ("vm-b", 9), ("vm-c", 0), ("vm-d", None)]:
        nova.add_server(name, "c1", prio)
    tracker, dispatched = _tracker(runtime)
    tracker.check()
    nova.kill("c1")
    tracker.check()
    tracker.check()
    assert TaskExecutor(runtime, "w1").run(dispatched[0]) == "done"
    order = [server for server, _ in nova.evacuate_calls]
    assert order == ["vm-b", "vm-d", "vm-a"]
    assert nova.servers["vm-c"].host == "c1"
    assert nova.services["c1"].forced_down and not nova.services["c1"].enabled
    with runtime.transaction() as session:
        assert db_api.node(session, "c1").state == "evacuated"

    nova.revive("c1")
    tracker.check()
    with runtime.transaction() as session:
        assert db_api.node(session, "c1").state == "recovering"
    for migration in nova.migrations:
        migration["status"] = "completed"
    tracker.check()
    with runtime.transaction() as session:
        assert db_api.node(session, "c1").state == "up"
    assert not nova.services["c1"].forced_down and nova.services["c1"].enabled


def test_live_agent_file_keeps_host_from_being_fenced(make_runtime):
    runtime = make_runtime(extra_availability_check={"enabled": "true", "delay": 0,
                                                     "attempts": 2})
    from cloud_manager.agent_report import AgentReport, write_report

    storage = runtime.conf.extra_availability_check.storage_path
    stamps = iter(range(100, 200))

    def sleep(_seconds):
        write_report(storage, AgentReport("c1", float(next(stamps)), {}))

    runtime.nova.add_server("vm1", "c1", 5)
    with runtime.transaction() as session:
        db_api.ensure_nodes(session, HOSTS)

    write_report(storage, AgentReport("c1", 50.0, {}))
    task = _request(runtime, "c1", TaskKind.AUTOMATIC, "test")
    state = TaskExecutor(runtime, "w1", sleep=sleep).run(task["id"])
    assert state == "aborted"
    assert runtime.nova.evacuate_calls == []
    assert not runtime.nova.services["c1"].forced_down


def test_resumed_task_never_evacuates_twice(make_runtime):
    runtime = make_runtime()
    nova = runtime.nova
    for name in ("vm1", "vm2", "vm3"):
        nova.add_server(name, "c1", 5)
    with runtime.transaction() as session:
        db_api.ensure_nodes(session, HOSTS)

    task = _request(runtime, "c1", TaskKind.MANUAL, "test")
    _worker_dies_mid_request(runtime, task["id"], sent=["vm1"])

    assert TaskExecutor(runtime, "w2").run(task["id"]) == "done"
    assert sorted(s for s, _ in nova.evacuate_calls) == ["vm2", "vm3"]
    assert all(nova.servers[n].host != "c1" for n in ("vm1", "vm2", "vm3"))


def test_failed_requests_are_retried_then_reported(make_runtime):
    runtime = make_runtime(host_tasks={"evacuation_retries": 2})
    nova = runtime.nova
    task = _manual_task(runtime, "ok", "bad")
    nova.fail_evacuate.add("bad")
    assert TaskExecutor(runtime, "w1").run(task["id"]) == "partial"
    assert [s for s, _ in nova.evacuate_calls].count("bad") == 2
    with runtime.transaction() as session:
        items = {i.instance_id: i for i in db_api.task(session, task["id"]).items}
    assert items["bad"].state == "failed" and "409" in items["bad"].message
    assert items["ok"].state == "done"


def test_task_held_by_live_worker_is_not_taken_over(make_runtime):
    runtime = make_runtime()
    runtime.nova.add_server("vm1", "c1", 5)
    with runtime.transaction() as session:
        db_api.ensure_nodes(session, HOSTS)

    task = _request(runtime, "c1", TaskKind.MANUAL, "t")
    with runtime.transaction() as session:
        assert db_api.claim_task(session, task["id"], "w1", timedelta(seconds=60))
    assert TaskExecutor(runtime, "w2").run(task["id"]) is None
    assert runtime.nova.evacuate_calls == []


class FakePower:
    """A node's power switch: soft-off turns it off after ``soft_off_reads`` state reads
    (never when None); hard off at once."""

    def __init__(self, nova: FakeNova, host: str, soft_off_reads: int | None) -> None:
        self.nova, self.host, self.soft_off_reads = nova, host, soft_off_reads
        self.state, self.calls, self._reads_left, self.closed = "on", [], None, 0

    def power_state(self) -> str:
        if self._reads_left is not None:
            self._reads_left -= 1
            if self._reads_left < 0:
                self._switch_off()
        return self.state

    def power_soft_off(self) -> None:
        self.calls.append("soft_off")
        self._reads_left = self.soft_off_reads

    def power_off(self) -> None:
        self.calls.append("off")
        self._switch_off()

    def _switch_off(self) -> None:
        self.state, self._reads_left = "off", None
        self.nova.kill(self.host)

    def __enter__(self) -> FakePower:
        return self

    def __exit__(self, *exc_info) -> None:
        self.closed += 1


def _with_power_device(runtime, host: str, soft_off_reads: int | None) -> FakePower:
    power = FakePower(runtime.nova, host, soft_off_reads)
    runtime.power_driver = lambda device: power
    with runtime.transaction() as session:
        db_api.ensure_nodes(session, HOSTS)
        db_api.add_power_device(session, name=f"bmc-{host}", driver="ipmi", address="x",
                                port=None, username=None, secret=None, hostname=host,
                                options=None)
    return power


def _node(runtime, host: str):
    with runtime.transaction() as session:
        node = db_api.node(session, host)
        return node.state, node.state_reason


def test_planned_shutdown_waits_for_a_clean_stop_then_evacuates(make_runtime):
    runtime = make_runtime(power={"shutdown_interval": 7, "shutdown_max_tick": 5})
    runtime.nova.add_server("vm1", "c1", 5)
    power = _with_power_device(runtime, "c1", soft_off_reads=2)
    sleeps: list[float] = []

    task = _request(runtime, "c1", TaskKind.SHUTDOWN, "PSU swap")
    assert TaskExecutor(runtime, "w1", sleep=sleeps.append).run(task["id"]) == "done"
    assert power.calls == ["soft_off"]
    assert power.closed == 1
    assert sleeps[:2] == [7, 7]
    assert runtime.nova.servers["vm1"].host != "c1"
    assert runtime.nova.services["c1"].forced_down
    state, _ = _node(runtime, "c1")
    assert state == "evacuated"
    with runtime.transaction() as session:
        reasons = [e.message for e in db_api.events(session, "c1")]
    assert any("planned shutdown: shut down cleanly through power device bmc-c1" in r
               for r in reasons), reasons


def test_planned_shutdown_powers_off_a_node_that_does_not_stop(make_runtime):
    runtime = make_runtime(power={"shutdown_interval": 3, "shutdown_max_tick": 4})
    runtime.nova.add_server("vm1", "c1", 5)
    power = _with_power_device(runtime, "c1", soft_off_reads=None)
    sleeps: list[float] = []

    task = _request(runtime, "c1", TaskKind.SHUTDOWN, "t")
    assert TaskExecutor(runtime, "w1", sleep=sleeps.append).run(task["id"]) == "done"
    assert power.calls == ["soft_off", "off"]
    assert sleeps.count(3) == 4
    assert runtime.nova.servers["vm1"].host != "c1"
    with runtime.transaction() as session:
        reasons = [e.message for e in db_api.events(session, "c1")]
    assert any("(still on after 4 checks 3s apart)" in r for r in reasons), reasons


def test_planned_shutdown_asks_the_agent_to_prepare_before_the_power_device(make_runtime,
                                                                             tmp_path):
    import sys

    runtime = make_runtime(agent={"enabled": "true"}, power={"shutdown_interval": 1})
    runtime.nova.add_server("vm1", "c1", 5)
    power = _with_power_device(runtime, "c1", soft_off_reads=1)
    marker = tmp_path / "nova-compute-stopped"
    power_calls_when_asked: list[list[str]] = []

    def instances() -> dict[str, str]:
        power_calls_when_asked.append(list(power.calls))
        return {"vm1": "running"}

    server = _agent_of(runtime, "c1", instances, f"{sys.executable} -c \"open('{marker}', 'w')\"")
    try:
        task = _request(runtime, "c1", TaskKind.SHUTDOWN, "t")
        assert TaskExecutor(runtime, "w1", sleep=lambda s: None).run(task["id"]) == "done"
    finally:
        server.stop()
        server.wait()
    assert marker.exists() and power_calls_when_asked == [[]]
    assert power.calls == ["soft_off"]
    with runtime.transaction() as session:
        events = [(e.kind, e.message) for e in db_api.events(session, "c1")]
    assert ("action", "node agent prepared the shutdown: nova-compute stopped; 1 instance(s) "
            "still on the node (1 running), evacuated once it is off") in events, events


def test_planned_shutdown_goes_on_without_an_agent_that_does_not_answer(make_runtime):
    runtime = make_runtime(agent={"enabled": "true"}, power={"shutdown_interval": 1})
    runtime.nova.add_server("vm1", "c1", 5)
    power = _with_power_device(runtime, "c1", soft_off_reads=1)
    _agent_of(runtime, "c1", None, "")

    task = _request(runtime, "c1", TaskKind.SHUTDOWN, "t")
    assert TaskExecutor(runtime, "w1", sleep=lambda s: None).run(task["id"]) == "done"
    assert power.calls == ["soft_off"]
    assert runtime.nova.servers["vm1"].host != "c1"
    with runtime.transaction() as session:
        warnings = [e.message for e in db_api.events(session, "c1", kind="warning")]
    expected = ("node agent of c1: prepare_shutdown: no confirmation within 0.2s, 2 attempt(s)",
                "; shutting down without the agent's preparation")
    assert any(w.startswith(expected[0]) and w.endswith(expected[1]) for w in warnings), warnings


def _record_planning_at_power_off(runtime, power: FakePower,
                                  then=lambda: None) -> list[bool]:
    """Make ``power.power_off`` give planning a second to list the node's servers, then run
    ``then``; returns, per power-off, whether planning had listed them by then."""
    servers_read = threading.Event()
    list_servers, switch_off = runtime.nova.servers_on_host, power.power_off
    planning_came_first: list[bool] = []

    def servers_on_host(host):
        servers_read.set()
        return list_servers(host)

    def power_off():
        planning_came_first.append(servers_read.wait(timeout=1))
        then()
        switch_off()

    runtime.nova.servers_on_host, power.power_off = servers_on_host, power_off
    return planning_came_first


def test_nothing_else_runs_in_the_worker_while_the_bmc_is_used(make_runtime):
    runtime = make_runtime()
    power = _with_power_device(runtime, "c1", soft_off_reads=None)
    planning_came_first = _record_planning_at_power_off(runtime, power)
    task = _manual_task(runtime, "vm1")
    assert TaskExecutor(runtime, "w1").run(task["id"]) == "done"
    assert planning_came_first == [False]
    assert runtime.nova.servers["vm1"].host != "c1"


def test_servers_that_landed_while_the_node_was_fenced_are_planned(make_runtime):
    runtime = make_runtime()
    power = _with_power_device(runtime, "c1", soft_off_reads=None)
    _record_planning_at_power_off(runtime, power,
                                  then=lambda: runtime.nova.add_server("vm2", "c1", 5))
    task = _manual_task(runtime, "vm1")
    assert TaskExecutor(runtime, "w1").run(task["id"]) == "done"
    assert {s for s, _ in runtime.nova.evacuate_calls} == {"vm1", "vm2"}


def test_planned_shutdown_is_planned_once_the_node_is_off(make_runtime):
    runtime = make_runtime(power={"shutdown_interval": 1, "shutdown_max_tick": 5})
    runtime.nova.add_server("vm1", "c1", 5)
    power = _with_power_device(runtime, "c1", soft_off_reads=1)
    soft_off = power.power_soft_off

    def soft_off_while_a_server_lands():
        soft_off()
        runtime.nova.add_server("vm2", "c1", 5)

    power.power_soft_off = soft_off_while_a_server_lands
    task = _request(runtime, "c1", TaskKind.SHUTDOWN, "t")
    assert TaskExecutor(runtime, "w1", sleep=lambda _: None).run(task["id"]) == "done"
    assert {s for s, _ in runtime.nova.evacuate_calls} == {"vm1", "vm2"}


def test_planned_shutdown_needs_a_power_device_and_no_maintenance(make_runtime):
    runtime = make_runtime()
    with runtime.transaction() as session:
        db_api.ensure_nodes(session, HOSTS)
    with pytest.raises(db_api.Conflict, match="'c1' has no power device"):
        _request(runtime, "c1", TaskKind.SHUTDOWN, "t")
    with runtime.transaction() as session:
        db_api.node(session, "c2").maintenance = True
    with pytest.raises(db_api.Conflict, match="'c2' is in maintenance"):
        _request(runtime, "c2", TaskKind.MANUAL, "t")
    with runtime.transaction() as session:
        assert db_api.active_task(session, "c1") is None
        assert db_api.active_task(session, "c2") is None


def test_server_deleted_while_evacuating_is_reported_not_waited_for(make_runtime):
    runtime = make_runtime(host_tasks={"retries_wait_for_vm_status": 1000})
    nova = runtime.nova
    task = _manual_task(runtime, "kept", "deleted")
    nova.deleted_during_rebuild.add("deleted")
    assert TaskExecutor(runtime, "w1").run(task["id"]) == "partial"
    with runtime.transaction() as session:
        items = {i.instance_id: i for i in db_api.task(session, task["id"]).items}
    assert (items["deleted"].state, items["deleted"].message) == ("failed", "server was deleted")
    assert items["kept"].state == "done"


def test_message_for_a_task_not_in_the_database_is_dropped(make_runtime):
    runtime = make_runtime()
    assert TaskExecutor(runtime, "w1").run("6f1c1f7e-0000-4000-8000-000000000000") is None


def test_max_parallel_evacuations_caps_requests_in_flight(make_runtime):
    runtime = make_runtime(host_tasks={"max_parallel_evacuations": 2})
    nova = runtime.nova
    for n in range(5):
        nova.add_server(f"vm{n}", "c1", 5)
    nova.add_server("first", "c1", 9)
    with runtime.transaction() as session:
        db_api.ensure_nodes(session, HOSTS)
    task = _request(runtime, "c1", TaskKind.MANUAL, "t")
    in_flight_at_call: list[int] = []
    real_evacuate = nova.evacuate

    def evacuate(server_id, target):
        with runtime.transaction() as session:
            items = db_api.task(session, task["id"]).items
            in_flight_at_call.append(sum(i.state == "requested" for i in items))
        real_evacuate(server_id, target)

    nova.evacuate = evacuate
    assert TaskExecutor(runtime, "w1").run(task["id"]) == "done"
    assert [s for s, _ in nova.evacuate_calls][0] == "first"
    assert len(in_flight_at_call) == 6 and max(in_flight_at_call) <= 2
    assert all(s.host != "c1" for s in nova.servers.values())


@pytest.mark.parametrize("threads", [1, 3])
def test_evacuation_requests_are_sent_a_few_at_a_time(make_runtime, threads):
    runtime = make_runtime(host_tasks={"evacuation_request_threads": threads})
    nova = runtime.nova
    for n in range(8):
        nova.add_server(f"vm{n}", "c1", 5)
    task = _manual_task(runtime)
    sending, most = [0], [0]
    lock, real_evacuate = threading.Lock(), nova.evacuate

    def evacuate(server_id, target):
        with lock:
            sending[0] += 1
            most[0] = max(most[0], sending[0])
        time.sleep(0.05)
        real_evacuate(server_id, target)
        with lock:
            sending[0] -= 1

    nova.evacuate = evacuate
    assert TaskExecutor(runtime, "w1").run(task["id"]) == "done"
    assert most[0] == threads
    assert len(nova.evacuate_calls) == 8


def test_rebuild_failed_on_the_new_host_is_retried_then_reported(make_runtime):
    runtime = make_runtime(host_tasks={"evacuation_retries": 2})
    nova = runtime.nova
    task = _manual_task(runtime, "ok", "bad")
    nova.rebuild_fails.add("bad")
    assert TaskExecutor(runtime, "w1").run(task["id"]) == "partial"
    assert [s for s, _ in nova.evacuate_calls].count("bad") == 2
    with runtime.transaction() as session:
        items = {i.instance_id: i for i in db_api.task(session, task["id"]).items}
    assert (items["bad"].state, items["bad"].message) == (
        "failed", "evacuation failed; server ERROR")
    assert (items["ok"].state, items["ok"].message) == (
        "done", f"evacuated to {nova.servers['ok'].host}")


def test_evacuation_that_never_finishes_times_out(make_runtime):
    runtime = make_runtime(host_tasks={"retries_wait_for_vm_status": 3})
    nova = runtime.nova
    nova.evacuation_status = "pre-migrating"
    task = _manual_task(runtime, "stuck")
    assert TaskExecutor(runtime, "w1").run(task["id"]) == "failed"
    assert len(nova.evacuate_calls) == 1
    with runtime.transaction() as session:
        item = db_api.task(session, task["id"]).items[0]
    assert (item.state, item.message) == ("failed", "timed out waiting for the server")


def test_host_that_dies_again_while_recovering_is_handled_again(make_runtime):
    runtime = make_runtime(extra_availability_check=STORAGE_CHECK)
    nova = runtime.nova
    tracker, dispatched = _c1_dies_and_is_evacuated(runtime)
    nova.revive("c1")  # back, but Nova has not cleaned up the evacuated instance yet
    tracker.check()
    with runtime.transaction() as session:
        assert db_api.node(session, "c1").state == "recovering"

    nova.kill("c1", seconds_ago=60)
    tracker.check()
    tracker.check()
    with runtime.transaction() as session:
        node = db_api.node(session, "c1")
        assert node.state == "down"
        assert node.state_reason.startswith("died again while recovering")
    assert len(dispatched) == 2
    assert TaskExecutor(runtime, "w1").run(dispatched[1]) == "done"
    assert nova.evacuate_calls == [("vm1", nova.servers["vm1"].host)]


def test_host_still_on_after_power_off_is_not_evacuated(make_runtime):
    runtime = make_runtime(host_tasks={"retries_wait_for_node_state": 6})
    runtime.nova.add_server("vm1", "c1", 5)
    power = _with_power_device(runtime, "c1", soft_off_reads=None)
    power.power_off = lambda: power.calls.append("off")  # the BMC accepts it, nothing happens
    runtime.nova.kill("c1")
    sleeps: list[float] = []

    task = _request(runtime, "c1", TaskKind.AUTOMATIC, "t")
    assert TaskExecutor(runtime, "w1", sleep=sleeps.append).run(task["id"]) == "failed"
    assert power.calls == ["off"] and sleeps == [0.25] * 6
    assert runtime.nova.evacuate_calls == [] and not runtime.nova.services["c1"].forced_down
    with runtime.transaction() as session:
        message = db_api.task(session, task["id"]).message
    assert "c1 still reports power on after 6 checks 0.25s apart" in message, message


def test_failed_power_state_read_while_verifying_is_checked_again(make_runtime):
    """A BMC dropping one connection must not fail the fencing (and delay the evacuation
    until the tracker's next loop)."""
    runtime = make_runtime(host_tasks={"retries_wait_for_node_state": 6})
    runtime.nova.add_server("vm1", "c1", 5)
    power = _with_power_device(runtime, "c1", soft_off_reads=None)
    reads = iter([PowerError("connection dropped"), "off"])

    def flaky_read() -> str:
        value = next(reads)
        if isinstance(value, Exception):
            raise value
        return value

    power.power_state = flaky_read
    runtime.nova.kill("c1")
    sleeps: list[float] = []
    task = _request(runtime, "c1", TaskKind.AUTOMATIC, "t")
    assert TaskExecutor(runtime, "w1", sleep=sleeps.append).run(task["id"]) == "done"
    assert sleeps[:1] == [0.25]
    assert runtime.nova.evacuate_calls == [("vm1", runtime.nova.servers["vm1"].host)]


def test_power_state_unreadable_to_the_end_fails_the_fencing(make_runtime):
    runtime = make_runtime(host_tasks={"retries_wait_for_node_state": 3})
    runtime.nova.add_server("vm1", "c1", 5)
    power = _with_power_device(runtime, "c1", soft_off_reads=None)

    def broken_read() -> str:
        raise PowerError("BMC unreachable")

    power.power_state = broken_read
    runtime.nova.kill("c1")
    task = _request(runtime, "c1", TaskKind.AUTOMATIC, "t")
    assert TaskExecutor(runtime, "w1", sleep=lambda _: None).run(task["id"]) == "failed"
    assert runtime.nova.evacuate_calls == [] and not runtime.nova.services["c1"].forced_down
    with runtime.transaction() as session:
        message = db_api.task(session, task["id"]).message
    assert "c1 still reports power unknown (BMC unreachable) after 3 checks" in message, message


def test_recovered_host_is_enabled_only_once_nova_sees_it_up(make_runtime):
    """Enabled earlier, Nova would keep the host's COMPUTE_STATUS_DISABLED trait."""
    runtime = make_runtime(extra_availability_check=STORAGE_CHECK)
    nova = runtime.nova
    tracker, _ = _c1_dies_and_is_evacuated(runtime)
    for migration in nova.migrations:
        migration["status"] = "completed"

    nova.revive("c1", heartbeating=False)  # started, first heartbeat not sent yet
    for _ in range(4):
        tracker.check()
        nova.revive("c1", heartbeating=False)  # its updated_at keeps moving
    with runtime.transaction() as session:
        assert db_api.node(session, "c1").state == "recovering"
    assert not nova.services["c1"].forced_down and not nova.services["c1"].enabled

    nova.revive("c1")
    tracker.check()
    with runtime.transaction() as session:
        assert db_api.node(session, "c1").state == "up"
    assert nova.services["c1"].enabled


def test_novas_clock_behind_the_controllers_does_not_hide_finished_evacuations(make_runtime):
    runtime = make_runtime(host_tasks={"retries_wait_for_vm_status": 5})
    runtime.nova.clock_skew = timedelta(minutes=-2)
    task = _manual_task(runtime, "vm1", "vm2")
    assert TaskExecutor(runtime, "w1").run(task["id"]) == "done"


def test_resumed_task_tells_its_own_requests_by_record_id_not_by_clock(make_runtime):
    runtime = make_runtime()
    nova = runtime.nova
    nova.clock_skew = timedelta(minutes=-2)  # Nova's records look older than the task
    nova.add_server("vm1", "c1", 5)
    nova.add_server("vm2", "c1", 5)
    # vm2 was evacuated away from c1 in an earlier incident and has been moved back since.
    nova.migrations.append({"id": 1, "instance_uuid": "vm2", "source_compute": "c1",
                            "dest_compute": "c3", "status": "done",
                            "created_at": fake_now().isoformat()})
    task = _manual_task(runtime)
    _worker_dies_mid_request(runtime, task["id"], sent=["vm1"])

    assert TaskExecutor(runtime, "w2").run(task["id"]) == "done"
    assert [s for s, _ in nova.evacuate_calls] == ["vm2"]
    assert nova.servers["vm2"].host != "c1"


class _Time:
    """The tracker's clock and sleep, advanced by its own sleeps only."""

    EPOCH = 1_800_000_000.0

    def __init__(self) -> None:
        self.t = 0.0

    def sleep(self, seconds: float) -> None:
        self.t += seconds

    def monotonic(self) -> float:
        return self.t

    def clock(self) -> float:
        return self.EPOCH + self.t


def _reports_every_2s(time_: _Time, silent_from: dict[str, float]):
    """Nova's last_seen_up, to the second: every host reports at t = 1.2, 3.2, 5.2, ..."""
    def last_seen():
        seen = {}
        for host in HOSTS:
            now = min(time_.t, silent_from.get(host, time_.t))
            last_report = 1.2 + 2 * ((now - 1.2) // 2)
            seen[host] = db_api.from_timestamp(int(time_.EPOCH + last_report))
        return seen
    return last_seen


def _run_tracker(runtime, silent_from: dict[str, float], until: float,
                 with_novas_database: bool = True) -> list[tuple[float, str]]:
    """Run the tracker loop on a fake clock; return (time, c1's state) after each check."""
    time_ = _Time()
    tracker, _ = _tracker(runtime)
    tracker.clock = time_.clock
    tracker.heartbeats.last_seen = (_reports_every_2s(time_, silent_from)
                                    if with_novas_database else lambda: None)
    checks = []
    check = tracker.check

    def check_and_record():
        check()
        with runtime.transaction() as session:
            checks.append((round(time_.t, 2), db_api.node(session, "c1").state))

    tracker.check = check_and_record
    run_forever(tracker, lambda: True, lambda: time_.t >= until, time_.sleep, time_.monotonic)
    return checks


def test_silent_nova_compute_is_suspected_when_its_report_expires(make_runtime):
    """Not at the next loop: c1's last report (t=5.2, stored as 5 s) expires at t=9."""
    runtime = make_runtime(node_tracker={"loop_time": 2, "service_timeout": 4})
    checks = _run_tracker(runtime, {"c1": 6.0}, until=11.5)
    assert checks == [(0, "up"), (2, "up"), (4, "up"), (6, "up"), (8, "up"),
                      (9.05, "suspect"), (11.05, "down")]


def test_reports_that_keep_coming_leave_the_loop_on_its_pace(make_runtime):
    runtime = make_runtime(node_tracker={"loop_time": 2, "service_timeout": 4})
    assert [t for t, _ in _run_tracker(runtime, {}, until=9)] == [0, 2, 4, 6, 8]


def test_without_novas_database_a_silent_host_is_seen_at_the_next_loop(make_runtime):
    runtime = make_runtime(node_tracker={"loop_time": 2, "service_timeout": 4})
    runtime.nova.kill("c1")
    checks = _run_tracker(runtime, {}, until=3, with_novas_database=False)
    assert checks == [(0, "suspect"), (2, "down")]


def test_bmc_stuck_powering_off_is_not_taken_as_off_and_the_fencing_fails_with_why(
        make_runtime, tmp_path):
    """A real Redfish BMC (the sandbox's) that keeps answering PoweringOff after ForceOff."""
    from cloud_manager.power import driver_for
    from tests.unit.cloud_manager.power.sandbox_bmc import HOST, PASSWORD, USER, RedfishBMC

    bmc = RedfishBMC(tmp_path / "bmc")
    try:
        runtime = make_runtime(host_tasks={"retries_wait_for_node_state": 2})
        runtime.nova.add_server("vm1", "c1", 5)
        _with_power_device(runtime, "c1", soft_off_reads=None)
        runtime.power_driver = lambda device: driver_for(
            "redfish", name="bmc-c1", address=bmc.url, port=None, username=USER,
            password=PASSWORD, options={"system_id": HOST})
        bmc.report("powering-off")
        runtime.nova.kill("c1")
        task = _request(runtime, "c1", TaskKind.AUTOMATIC, "t")
        assert TaskExecutor(runtime, "w1", sleep=lambda _: None).run(task["id"]) == "failed"
        assert bmc.power.state(HOST) == "off"  # the off was sent; the answer is not proof
    finally:
        bmc.close()
    assert runtime.nova.evacuate_calls == [] and not runtime.nova.services["c1"].forced_down
    why = ("c1 still reports power unknown (power device bmc-c1: Redfish PowerState is "
           "'PoweringOff') after 2 checks")
    with runtime.transaction() as session:
        assert why in db_api.task(session, task["id"]).message
        alerts = [e.message for e in db_api.events(session, hostname="c1", kind="alert")]
    assert any(why in a for a in alerts), alerts
