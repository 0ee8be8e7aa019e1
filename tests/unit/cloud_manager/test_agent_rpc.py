"""Node agent commands over oslo.messaging's in-process ``fake://`` transport: a real RPC server
(the agent's endpoint) and the controller's real client, no mock between them."""

from __future__ import annotations

import sys
import threading
import time

import pytest

from cloud_manager import agent_protocol as protocol
from cloud_manager.agent_client import (
    AgentClient,
    AgentError,
    AgentNotConfigured,
    AgentUnavailable,
)
from cloud_manager.agent_endpoint import AgentEndpoint, rpc_server, run_command

INSTANCES = {"11111111-1111-1111-1111-111111111111": "running",
             "22222222-2222-2222-2222-222222222222": "stopped"}
PY = sys.executable


@pytest.fixture
def transport():
    t = protocol.transport("fake://")
    yield t
    t.cleanup()


@pytest.fixture
def serve(transport):
    """``serve(host, **endpoint options)``: a started agent RPC server for ``host``."""
    servers = []

    def start(host: str = "c1", instances=lambda: dict(INSTANCES),
              restart: str = f"{PY} -c pass", stop: str = f"{PY} -c pass",
              command_timeout: float = 5):
        server = rpc_server(transport, AgentEndpoint(host, instances, restart, stop,
                                                     command_timeout, clock=lambda: 1000.0))
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
        server.wait()


def client(transport, confirm=0.3, response=5.0, backoff=0.3, attempts=3, sleeps=None):
    return AgentClient(transport, confirm, response, backoff, attempts,
                       sleep=(sleeps.append if sleeps is not None else time.sleep))


def test_report_instances_comes_from_the_agent_of_that_node_only(transport, serve):
    serve("c1")
    serve("c2", instances=dict)
    c = client(transport)
    assert c.report_instances("c1") == protocol.InstanceReport("c1", 1000.0, INSTANCES)
    assert c.report_instances("c2") == protocol.InstanceReport("c2", 1000.0, {})
    assert c.ping("c1") == protocol.Pong("c1", protocol.VERSION)


def test_restart_runs_the_configured_command_and_returns_its_result(transport, serve, tmp_path):
    marker = tmp_path / "restarted"
    serve(restart=f"{PY} -c \"open('{marker}', 'w').write('x'); print('restarted')\"")
    result = client(transport).restart_nova_compute("c1")
    assert marker.read_text() == "x"
    assert (result.ok, result.output.strip(), result.host) == (True, "restarted", "c1")
    assert result.command[0] == PY


def test_failed_restart_is_an_agent_error_quoting_the_command(transport, serve):
    serve(restart=f"{PY} -c \"import sys; sys.exit('unit not found')\"")
    with pytest.raises(AgentError, match=r"c1: restart_nova_compute: .* exited 1: unit not found"):
        client(transport).restart_nova_compute("c1")


def test_prepare_shutdown_stops_nova_compute_and_reports_what_still_runs(transport, serve,
                                                                         tmp_path):
    marker = tmp_path / "stopped"
    serve(stop=f"{PY} -c \"open('{marker}', 'w')\"")
    prepared = client(transport).prepare_shutdown("c1")
    assert marker.exists()
    assert prepared.stop.ok and prepared.instances == INSTANCES


def test_prepare_shutdown_reports_a_failed_stop_without_raising(transport, serve):
    serve(stop="/nonexistent/systemctl stop openstack-nova-compute")
    prepared = client(transport).prepare_shutdown("c1")
    assert prepared.stop.returncode == -1 and "cannot run" in prepared.stop.output
    assert prepared.instances == INSTANCES


def test_unknown_node_is_unavailable_after_the_attempts_with_exponential_backoff(transport,
                                                                                  serve):
    serve("c1")
    sleeps: list[float] = []
    c = client(transport, confirm=0.2, backoff=0.5, attempts=4, sleeps=sleeps)
    started = time.monotonic()
    with pytest.raises(AgentUnavailable, match=r"node agent of nope: report_instances: no "
                       r"confirmation within 0.2s, 4 attempt\(s\)"):
        c.report_instances("nope")
    assert sleeps == [0.5, 1.0, 2.0]  # backoff_factor * 2 ** n between the 4 attempts
    assert time.monotonic() - started >= 4 * 0.2


def test_an_agent_that_comes_up_during_the_retries_is_used(transport, serve):
    sleeps: list[float] = []

    def start_on_first_retry(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 1:
            serve("late")

    c = AgentClient(transport, 0.3, 5, 0.1, 3, sleep=start_on_first_retry)
    assert c.report_instances("late").instances == INSTANCES
    assert sleeps == [0.1]


def test_confirmed_agent_that_does_not_answer_in_time_is_an_agent_error(transport, serve):
    release = threading.Event()

    def slow() -> dict[str, str]:
        release.wait(5)
        return {}

    serve("c1", instances=slow)
    try:
        with pytest.raises(AgentError, match=r"c1: report_instances: confirmed, then no "
                           r"answer within 0.5s"):
            client(transport, response=0.5).report_instances("c1")
    finally:
        release.set()


def test_an_instance_source_failure_arrives_as_one_line(transport, serve):
    def broken() -> dict[str, str]:
        raise RuntimeError("virsh -c qemu:///system list failed: no connection\nmore")

    serve("c1", instances=broken)
    with pytest.raises(AgentError) as caught:
        client(transport).report_instances("c1")
    assert str(caught.value) == ("node agent of c1: report_instances: RuntimeError: virsh -c "
                                 "qemu:///system list failed: no connection")


def test_a_command_outliving_its_timeout_is_stopped_and_reported():
    result = run_command("c1", f"{PY} -c \"import time; time.sleep(10)\"", timeout=0.3)
    assert (result.returncode, result.output) == (-1, "timed out after 0.3s")


def test_controller_without_agent_or_broker_refuses_clearly(make_runtime):
    runtime = make_runtime()
    with pytest.raises(AgentNotConfigured, match=r"\[agent\] enabled = false"):
        AgentClient.from_conf(runtime.conf)
    runtime = make_runtime(agent={"enabled": "true"})
    with pytest.raises(AgentNotConfigured, match=r"\[DEFAULT\] transport_url is not set"):
        AgentClient.from_conf(runtime.conf)


def test_an_unusable_transport_url_is_refused_without_showing_it(make_runtime):
    runtime = make_runtime(DEFAULT={"transport_url": "nosuch://aos:hunter2@127.0.0.1/"},
                           agent={"enabled": "true"})
    with pytest.raises(AgentNotConfigured) as caught:
        AgentClient.from_conf(runtime.conf)
    assert str(caught.value) == ("[DEFAULT] transport_url of the controller cannot be used for "
                                 "node agent commands (DriverLoadFailure)")
