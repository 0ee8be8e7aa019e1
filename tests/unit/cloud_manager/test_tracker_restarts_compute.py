"""The tracker asks a node's agent (a real RPC server on the ``fake://`` broker) to restart a
nova-compute that went silent while the agent is alive; Nova is the in-memory adapter."""

from __future__ import annotations

import sys
import time
from dataclasses import replace

from cloud_manager.agent_report import AgentReport, write_report
from cloud_manager.db import api as db_api
from cloud_manager.tracker import NodeTracker
from tests.unit.cloud_manager.agents import agent_of
from tests.unit.cloud_manager.conftest import HOSTS


def _setup(make_runtime, tmp_path, **agent):
    runtime = make_runtime(agent={"enabled": "true", **agent})
    marker = tmp_path / "restarts"
    restart = f"{sys.executable} -c \"open('{marker}', 'a').write('x')\""
    server = agent_of(runtime, "c1", dict, "true", restart)
    tracker = NodeTracker(runtime, lambda _id: None, in_background=lambda job: job())
    with runtime.transaction() as session:
        db_api.ensure_nodes(session, HOSTS)
    return runtime, tracker, server, marker


def _heartbeat(runtime, host="c1"):
    write_report(runtime.conf.extra_availability_check.storage_path,
                 AgentReport(host, time.time(), {}))


def _events(runtime, host="c1"):
    with runtime.transaction() as session:
        return [(e.kind, e.message) for e in db_api.events(session, host)]


def test_a_silent_compute_of_a_live_node_is_restarted_by_its_agent_once(make_runtime,
                                                                         tmp_path):
    runtime, tracker, server, marker = _setup(make_runtime, tmp_path)
    try:
        _heartbeat(runtime)
        runtime.nova.kill("c1")
        tracker.check()
        assert marker.read_text() == "x"
        tracker.check()  # still down: not asked again within restart_compute_interval
        assert marker.read_text() == "x"
    finally:
        server.stop()
        server.wait()
    [(kind, message)] = [e for e in _events(runtime) if "node agent" in e[1]]
    assert kind == "action"
    assert message.startswith("nova-compute is down while the node agent is alive (heartbeat ")
    assert "; nova-compute restarted by the node agent (" in message
    with runtime.transaction() as session:
        assert db_api.node(session, "c1").state == "up" and db_api.tasks(session) == []


def test_a_node_taken_in_hand_is_left_alone_and_an_agent_that_fails_is_a_warning(
        make_runtime, tmp_path):
    runtime, tracker, server, marker = _setup(make_runtime, tmp_path)
    server.stop()
    server.wait()
    _heartbeat(runtime)
    runtime.nova.kill("c1")
    services = runtime.nova.services
    services["c1"] = replace(services["c1"], enabled=False)
    tracker.check()
    assert not [e for e in _events(runtime) if "node agent" in e[1]]  # disabled by someone

    services["c1"] = replace(services["c1"], enabled=True)
    tracker.check()
    [(kind, message)] = [e for e in _events(runtime) if "node agent of c1" in e[1]]
    assert kind == "warning" and "the restart through the agent failed: node agent of c1: " \
        "restart_nova_compute: no confirmation within 0.2s, 2 attempt(s)" in message
    assert not marker.exists()


def test_restarts_are_off_with_interval_zero(make_runtime, tmp_path):
    runtime, tracker, server, marker = _setup(make_runtime, tmp_path,
                                              restart_compute_interval=0)
    try:
        _heartbeat(runtime)
        runtime.nova.kill("c1")
        tracker.check()
    finally:
        server.stop()
        server.wait()
    assert not marker.exists()
