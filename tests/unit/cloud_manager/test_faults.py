"""Faults that must stay local: a broken device, a node that cannot be probed, a task that
cannot start, a refused automatic task, a Nova call that hangs or fails."""

from __future__ import annotations

from aos.crypto import SecretKeyError
from cloud_manager.db import api as db_api
from cloud_manager.execution.executor import TaskExecutor
from cloud_manager.model.task_state import TaskKind
from cloud_manager.nodes import request_task
from tests.unit.cloud_manager.test_evacuation import _tracker, _with_power_device


def _undecryptable(runtime, host: str) -> None:
    """``host``'s power device secret was encrypted with another key."""
    _with_power_device(runtime, host, soft_off_reads=None)
    real = runtime.power_driver

    def power_driver(device):
        if device.hostname == host:
            raise SecretKeyError(f"cannot decrypt the secret of {device.name}: wrong key")
        return real(device)

    runtime.power_driver = power_driver


def _states(runtime) -> dict[str, str]:
    with runtime.transaction() as session:
        return {n.hostname: n.state for n in db_api.nodes(session)}


def _alerts(runtime, host: str | None) -> list[str]:
    with runtime.transaction() as session:
        return [e.message for e in db_api.events(session, host, kind="alert")]


def test_a_node_whose_device_cannot_be_read_does_not_blind_the_tracker(make_runtime):
    runtime = make_runtime(node_tracker={"max_down_hosts": 0})
    _undecryptable(runtime, "c1")
    tracker, _ = _tracker(runtime)
    tracker.check()
    runtime.nova.kill("c1")
    runtime.nova.kill("c2")
    for _ in range(3):
        tracker.check()
    states = _states(runtime)
    assert states["c2"] == "down"  # checked as usual
    assert states["c1"] == "down"  # power unknown; nova-compute silent
    alerts = _alerts(runtime, "c1")
    assert len(alerts) == 1, alerts  # once, not every loop
    assert "reading power device bmc-c1 failed (SecretKeyError: cannot decrypt" in alerts[0]


def test_a_node_that_cannot_be_probed_is_unknown_and_the_others_are_checked(make_runtime):
    runtime = make_runtime(node_tracker={"max_down_hosts": 0})
    tracker, _ = _tracker(runtime)
    tracker.check()
    real_probes = tracker._probes

    def probes(session, host, *args):
        if host == "c1":
            raise ValueError("bad option")
        return real_probes(session, host, *args)

    tracker._probes = probes
    runtime.nova.kill("c1")
    runtime.nova.kill("c2")
    tracker.check()
    tracker.check()
    states = _states(runtime)
    assert (states["c1"], states["c2"]) == ("up", "down")
    assert any("probing the node failed (ValueError: bad option)" in a
               for a in _alerts(runtime, "c1"))


def test_a_task_that_cannot_start_fails_with_an_alert_and_is_not_queued_again(make_runtime):
    runtime = make_runtime()
    _undecryptable(runtime, "c1")
    runtime.nova.add_server("vm1", "c1", 5)
    runtime.nova.kill("c1")
    with runtime.transaction() as session:
        db_api.node(session, "c1").state = "down"
    task = request_task(runtime, "c1", TaskKind.AUTOMATIC, reason="t", dispatch=lambda _: None)
    assert TaskExecutor(runtime, "w1").run(task["id"]) == "failed"
    with runtime.transaction() as session:
        row = db_api.task(session, task["id"])
        assert (row.owner, row.lease_until) == (None, None)
        assert "cannot run: SecretKeyError: cannot decrypt" in row.message
        assert db_api.take_orphaned_tasks(session, 0) == []
    assert any("cannot decrypt" in a for a in _alerts(runtime, "c1"))
    assert runtime.nova.evacuate_calls == []


def _events(runtime, host: str, kind: str) -> list[str]:
    with runtime.transaction() as session:
        return [e.message for e in db_api.events(session, host, kind=kind)]


def test_a_refused_automatic_task_is_decided_once_per_incident(make_runtime):
    """No power device, no storage check: the task is refused, and not asked again every
    loop; a power device added later makes the tracker try again, and says why."""
    runtime = make_runtime()
    runtime.nova.add_server("vm1", "c1", 5)
    tracker, dispatched = _tracker(runtime)
    tracker.check()
    runtime.nova.kill("c1")
    tracker.check()
    tracker.check()
    assert len(dispatched) == 1
    assert TaskExecutor(runtime, "w1").run(dispatched[0]) == "aborted"
    for _ in range(4):
        tracker.check()
    assert len(dispatched) == 1, "a refused task was asked for again"
    warnings = _events(runtime, "c1", "warning")
    assert len(warnings) == 1, warnings
    assert "not asked again for this incident" in warnings[0]
    assert "once a power device is added or changed" in warnings[0]

    _with_power_device(runtime, "c1", soft_off_reads=None)
    tracker.check()
    tracker.check()
    assert len(dispatched) == 2
    with runtime.transaction() as session:
        reason = db_api.task(session, dispatched[1]).reason
    assert "retried because power device bmc-c1 was added or changed after task" in reason
    assert TaskExecutor(runtime, "w1").run(dispatched[1]) == "done"
