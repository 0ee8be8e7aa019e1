"""The node service layer the API, the CLI and the tracker share, on a real database."""

from __future__ import annotations

import pytest

from cloud_manager import nodes
from cloud_manager.db import api as db_api
from cloud_manager.model.task_state import TaskKind
from tests.unit.cloud_manager.conftest import HOSTS


@pytest.fixture
def runtime(make_runtime):
    runtime = make_runtime()
    with runtime.transaction() as session:
        db_api.ensure_nodes(session, HOSTS)
    return runtime


def _set_state(runtime, host: str, state: str) -> None:
    with runtime.transaction() as session:
        db_api.node(session, host).state = state


def _events(runtime, host: str) -> list[str]:
    with runtime.transaction() as session:
        return [e.message for e in db_api.events(session, host, kind="action")]


def test_maintenance_goes_through_the_state_machine_and_names_who_asked(runtime):
    with runtime.transaction() as session:
        nodes.set_maintenance(session, db_api.node(session, "c1"), True, "disk swap", "user 7")
    with runtime.transaction() as session:
        row = db_api.node(session, "c1")
        assert (row.state, row.maintenance, row.state_reason) == (
            "maintenance", True, "disk swap")
        nodes.set_maintenance(session, row, True, None, "user 7")  # already there: nothing
    assert _events(runtime, "c1") == ["maintenance on by user 7: disk swap"]

    _set_state(runtime, "c2", "down")
    with pytest.raises(db_api.Conflict, match="cannot go from down to up"), \
            runtime.transaction() as session:
        nodes.set_maintenance(session, db_api.node(session, "c2"), False, None, "user 7")


def test_reserve_is_not_changed_under_an_active_task(runtime):
    nodes.request_task(runtime, "c1", TaskKind.MANUAL, force=True, by="user 7",
                       dispatch=lambda _id: None)
    with pytest.raises(db_api.Conflict, match="has an active task"), \
            runtime.transaction() as session:
        nodes.set_reserve(session, db_api.node(session, "c1"), True, None, "user 7")
    with runtime.transaction() as session:
        nodes.set_reserve(session, db_api.node(session, "c2"), True, "spare", "user 7")
        assert db_api.node(session, "c2").reserve
    assert _events(runtime, "c2") == ["reserve on by user 7: spare"]


def test_manual_evacuation_of_a_node_that_may_run_its_instances_needs_force(runtime):
    dispatched: list[str] = []
    _with_device(runtime, "c1")
    for state in ("up", "suspect", "recovering"):
        _set_state(runtime, "c1", state)
        with pytest.raises(db_api.Conflict, match=f"is {state}: it may still run"):
            nodes.request_task(runtime, "c1", TaskKind.MANUAL, dispatch=dispatched.append)
    assert dispatched == []
    _set_state(runtime, "c1", "down")
    task = nodes.request_task(runtime, "c1", TaskKind.MANUAL, reason="PSU", by="user 7",
                              dispatch=dispatched.append)
    assert dispatched == [task["id"]]
    assert (task["state"], task["strategy"], task["reason"]) == (
        "pending", "auto", "PSU (requested by user 7)")
    with pytest.raises(db_api.Conflict, match="already has an active task"):
        nodes.request_task(runtime, "c1", TaskKind.MANUAL, dispatch=dispatched.append)


def test_shutdown_needs_a_running_node_with_a_power_device(runtime):
    _set_state(runtime, "c2", "down")
    with pytest.raises(db_api.Conflict, match="'c2' is down, not running"):
        nodes.request_task(runtime, "c2", TaskKind.SHUTDOWN, dispatch=lambda _id: None)
    with pytest.raises(db_api.Conflict, match="'c1' has no power device"):
        nodes.request_task(runtime, "c1", TaskKind.SHUTDOWN, dispatch=lambda _id: None)
    with runtime.transaction() as session:
        db_api.node(session, "c3").maintenance = True
    with pytest.raises(db_api.Conflict, match="'c3' is in maintenance"):
        nodes.request_task(runtime, "c3", TaskKind.SHUTDOWN, dispatch=lambda _id: None)
    with runtime.transaction() as session:
        assert [db_api.active_task(session, h) for h in ("c1", "c2", "c3")] == [None] * 3


def test_a_task_that_cannot_be_queued_is_kept_for_the_tracker(runtime):
    def broker_down(_task_id: str) -> None:
        raise ConnectionError("broker unreachable")

    _set_state(runtime, "c1", "down")
    task = nodes.request_task(runtime, "c1", TaskKind.AUTOMATIC, reason="automatic: down",
                              dispatch=broker_down)
    with runtime.transaction() as session:
        assert db_api.active_task(session, "c1").id == task["id"]
        assert db_api.task(session, task["id"]).reason == "automatic: down"


def _with_device(runtime, host: str) -> None:
    with runtime.transaction() as session:
        db_api.add_power_device(session, name=f"bmc-{host}", driver="ipmi", address="x",
                                port=None, username=None, secret=None, hostname=host,
                                options=None)


def test_manual_evacuation_of_a_down_node_nothing_can_fence_needs_force(make_runtime):
    """Down only because nova-compute is silent, no power device, no storage proof: the
    operator must confirm the node is off."""
    for host, storage_check, device, allowed in (("c1", False, False, False),
                                                 ("c2", False, True, True),
                                                 ("c3", True, False, True)):
        runtime = make_runtime(extra_availability_check={"enabled": storage_check})
        with runtime.transaction() as session:
            db_api.ensure_nodes(session, HOSTS)
        _set_state(runtime, host, "down")
        if device:
            _with_device(runtime, host)
        if not allowed:
            with pytest.raises(db_api.Conflict, match="cannot make sure it is off"):
                nodes.request_task(runtime, host, TaskKind.MANUAL, dispatch=lambda _id: None)
            task = nodes.request_task(runtime, host, TaskKind.MANUAL, force=True,
                                      dispatch=lambda _id: None)
        else:
            task = nodes.request_task(runtime, host, TaskKind.MANUAL,
                                      dispatch=lambda _id: None)
        assert task["state"] == "pending"


def test_power_on_or_cycle_is_refused_while_a_task_evacuates_the_node(runtime):
    _with_device(runtime, "c1")
    calls: list[str] = []

    class Driver:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return None

        def power_on(self):
            calls.append("on")

        def power_off(self):
            calls.append("off")

        def power_cycle(self):
            calls.append("cycle")

        def power_state(self):
            return "off"

    runtime.power_driver = lambda device: Driver()
    nodes.request_task(runtime, "c1", TaskKind.MANUAL, force=True, dispatch=lambda _id: None)
    for action in ("on", "cycle"):
        with pytest.raises(db_api.Conflict, match=f"power {action} is refused until it ends"):
            nodes.power(runtime, "bmc-c1", action, "user 7")
    assert nodes.power(runtime, "bmc-c1", "off", "user 7") == "off"
    assert nodes.power(runtime, "bmc-c1", "status", "user 7") == "off"
    assert calls == ["off"]


def test_power_devices_are_added_and_removed_without_the_api(runtime):
    with runtime.transaction() as session:
        row = nodes.add_power_device(session, runtime.secrets, "user 7", name="c1-bmc",
                                     driver="ipmi", address="10.0.0.1", username="admin",
                                     password="s3cret", hostname="c1")
        assert row.secret and "s3cret" not in row.secret
        assert runtime.secrets.decrypt(row.secret) == "s3cret"
    with pytest.raises(db_api.Conflict, match="already has a power device"), \
            runtime.transaction() as session:
        nodes.add_power_device(session, runtime.secrets, "user 7", name="other",
                               driver="ipmi", address="10.0.0.2", hostname="c1")
    with runtime.transaction() as session:
        nodes.delete_power_device(session, "c1-bmc", "user 8")
        assert db_api.power_device_of(session, "c1") is None
    assert _events(runtime, "c1") == ["power device c1-bmc deleted by user 8",
                                      "power device c1-bmc (ipmi) added by user 7"]
