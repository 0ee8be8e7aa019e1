"""Faults that must stay local: a broken device, a node that cannot be probed, a task that
cannot start, a refused automatic task, a Nova call that hangs or fails."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from aos import openstack
from aos.crypto import SecretKeyError
from cloud_manager.db import api as db_api
from cloud_manager.execution.executor import TaskExecutor
from cloud_manager.model.task_state import TaskKind
from cloud_manager.nodes import request_task
from cloud_manager.nova import Nova, NovaError
from cloud_manager.tracker import NodeTracker, run_forever
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


class _Keystone:
    """A Keystone answering only what a password login needs, with a catalog whose
    compute and placement endpoints are a socket that accepts and never answers."""

    def __init__(self) -> None:
        self.hung = socket.socket()
        self.hung.bind(("127.0.0.1", 0))
        self.hung.listen(64)  # connections complete in the kernel; nothing ever answers
        hung_url = f"http://127.0.0.1:{self.hung.getsockname()[1]}"
        keystone = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _reply(self, status: int, body: dict, headers: dict | None = None) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._reply(200, {"version": {"id": "v3.14", "status": "stable", "links": [
                    {"rel": "self", "href": f"{keystone.url}/v3/"}]}})

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                domain = {"id": "default", "name": "Default"}
                endpoints = [{"id": f"{i}", "interface": i, "region": "RegionOne",
                              "region_id": "RegionOne", "url": hung_url}
                             for i in ("public", "internal", "admin")]
                self._reply(201, {"token": {
                    "expires_at": "2099-01-01T00:00:00.000000Z", "methods": ["password"],
                    "issued_at": "2020-01-01T00:00:00.000000Z",
                    "user": {"id": "u", "name": "aos", "domain": domain},
                    "project": {"id": "p", "name": "service", "domain": domain},
                    "roles": [{"id": "r", "name": "admin"}],
                    "catalog": [{"type": kind, "name": kind, "id": kind,
                                 "endpoints": endpoints}
                                for kind in ("compute", "placement")]}},
                    {"X-Subject-Token": "token"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.hung.close()


@pytest.mark.timeout(60)  # without the timeout the calls below never return
def test_a_hung_nova_fails_the_call_after_the_timeout_and_the_tracker_goes_on(make_runtime):
    """The real adapter stack (openstacksdk, keystoneauth) against an endpoint that never
    answers: each call fails after ``[openstack] timeout``, as a NovaError."""
    keystone = _Keystone()
    try:
        runtime = make_runtime(openstack={"auth_url": f"{keystone.url}/v3",
                                          "password": "secret", "timeout": 1})
        tracker, _ = _tracker(runtime)
        tracker.check()  # nodes known, all up (through the in-memory Nova)
        hung = Nova(openstack.connect(runtime.conf))
        for call in (hung.compute_services, hung.capacities):
            started = time.monotonic()
            with pytest.raises(NovaError):
                call()
            assert time.monotonic() - started < 10
        runtime.__dict__["nova"] = hung
        started = time.monotonic()
        tracker.check()  # no node changes state on a loop Nova did not answer
        assert time.monotonic() - started < 10
        assert set(_states(runtime).values()) == {"up"}
    finally:
        keystone.close()


def test_the_tracker_loop_survives_a_failing_nova_call(make_runtime):
    runtime = make_runtime()
    tracker, _ = _tracker(runtime)
    calls: list[int] = []
    real = runtime.nova.compute_services

    def flaky():
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("connection pool broken")
        return real()

    runtime.nova.compute_services = flaky
    run_forever(tracker, lambda: True, stop=lambda: len(calls) >= 3, sleep=lambda _: None)
    assert len(calls) == 3
    assert set(_states(runtime).values()) == {"up"}


def test_a_tracker_that_loses_leadership_stops_acting_within_its_loop(make_runtime):
    """Leadership is confirmed before each acting step: lost after the probes, no task."""
    runtime = make_runtime()
    runtime.nova.add_server("vm1", "c1", 5)
    leader = {"now": True}
    dispatched: list[str] = []
    tracker = NodeTracker(runtime, dispatched.append, still_leader=lambda: leader["now"])
    tracker.check()
    runtime.nova.kill("c1")
    tracker.check()
    leader["now"] = False  # the lock is lost while the next loop probes
    tracker.check()
    assert _states(runtime)["c1"] == "down"
    assert dispatched == []
    with runtime.transaction() as session:
        assert db_api.active_task(session, "c1") is None
