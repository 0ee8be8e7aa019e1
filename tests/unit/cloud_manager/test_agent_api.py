"""/v1/nodes/{hostname}/agent/...: the API asks a real agent RPC server over ``fake://``."""

from __future__ import annotations

import sys

import jsonschema
import pytest

from cloud_manager import agent_protocol
from cloud_manager.agent_client import AgentClient
from cloud_manager.agent_endpoint import AgentEndpoint, rpc_server
from cloud_manager.api import cloud_manager_api, schemas
from cloud_manager.db import api as db_api
from tests.unit.cloud_manager.test_api import add_node, error_of, make_conf

INSTANCES = {"11111111-1111-1111-1111-111111111111": "running"}


@pytest.fixture
def app(aos_env):
    return cloud_manager_api.create_app(make_conf(aos_env))


@pytest.fixture
def agents(runtime):
    """Agent commands on for this API, over an in-process broker; ``agents(host, restart)``
    serves that node's agent."""
    transport = agent_protocol.transport("fake://")
    runtime.__dict__["agents"] = AgentClient(transport, 0.2, 5, 0.05, 2)
    servers = []

    def serve(host: str, restart: str = f"{sys.executable} -c \"print('restarted')\"") -> None:
        server = rpc_server(transport, AgentEndpoint(host, lambda: dict(INSTANCES), restart,
                                                     "true", 5))
        server.start()
        servers.append(server)

    yield serve
    for server in servers:
        server.stop()
        server.wait()
    transport.cleanup()


def test_report_comes_from_the_nodes_agent_in_the_documented_shape(client, runtime, agents):
    add_node(runtime, "c1")
    agents("c1")
    body = client.get("/v1/nodes/c1/agent/instances").get_json()
    jsonschema.validate(body, schemas.AGENT_INSTANCES)
    assert (body["host"], body["instances"]) == ("c1", INSTANCES)


def test_restart_compute_runs_the_command_and_is_recorded(client, runtime, agents):
    add_node(runtime, "c1")
    agents("c1")
    response = client.post("/v1/nodes/c1/agent/restart-compute")
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    jsonschema.validate(body, schemas.AGENT_COMMAND)
    assert (body["returncode"], body["output"].strip()) == (0, "restarted")
    with runtime.transaction() as session:
        messages = [e.message for e in db_api.events(session, "c1", kind="action")]
    assert any(m.startswith("nova-compute restarted by its node agent, asked by user")
               for m in messages), messages


def test_a_node_whose_agent_does_not_answer_is_504_with_a_message(client, runtime, agents):
    add_node(runtime, "c2")
    message = error_of(client.get("/v1/nodes/c2/agent/instances"), 504)
    assert message.startswith("node agent of c2: report_instances: no confirmation within "
                              "0.2s, 2 attempt(s)")


def test_a_failed_restart_is_502_and_a_warning_event(client, runtime, agents):
    add_node(runtime, "c1")
    agents("c1", restart=f"{sys.executable} -c \"import sys; sys.exit('no such unit')\"")
    message = error_of(client.post("/v1/nodes/c1/agent/restart-compute"), 502)
    assert message.endswith("exited 1: no such unit")
    with runtime.transaction() as session:
        warnings = [e.message for e in db_api.events(session, "c1", kind="warning")]
    assert any("restart of nova-compute asked by" in w and "no such unit" in w
               for w in warnings), warnings


def test_an_unknown_node_is_404(client, agents):
    assert error_of(client.get("/v1/nodes/nope/agent/instances"), 404) == (
        "no compute node 'nope'")


def test_agent_commands_off_on_this_controller_is_409(client, runtime):
    add_node(runtime, "c1")
    message = error_of(client.post("/v1/nodes/c1/agent/restart-compute"), 409)
    assert "[agent] enabled = false" in message


def test_the_routes_are_in_the_openapi_document(client):
    paths = client.get("/openapi.json").get_json()["paths"]
    assert set(paths["/v1/nodes/{hostname}/agent/instances"]["get"]["responses"]) >= {
        "200", "404", "409", "502", "504"}
    assert "post" in paths["/v1/nodes/{hostname}/agent/restart-compute"]
