"""POST /v1/nodes (``node add``): what it answers, and the 400 / 404 / 409 it refuses with."""

from __future__ import annotations

import pytest

from cloud_manager.api import cloud_manager_api
from cloud_manager.db.models import Node, PowerDevice, Task
from tests.unit.cloud_manager.test_api import error_of, make_conf

MAC = "52:54:00:12:34:56"
BMC = {"name": "n1-bmc", "driver": "redfish", "address": "https://10.0.0.9",
       "username": "admin", "password": "bmc-pass", "options": {"system_id": "1"}}


@pytest.fixture
def app(aos_env):
    return cloud_manager_api.create_app(make_conf(aos_env))


@pytest.fixture
def dispatched(runtime) -> list[str]:
    queued: list[str] = []
    runtime.dispatch_task = queued.append  # the task queue, not the code under test
    return queued


def test_add_creates_the_node_its_device_and_queues_its_task(client, runtime, dispatched):
    response = client.post("/v1/nodes", json={"hostname": "n1", "mac": MAC.upper(),
                                              "new_power_device": BMC, "reserve": True})
    assert response.status_code == 202, response.get_data(as_text=True)
    task = response.get_json()
    assert (task["kind"], task["hostname"], task["state"], task["strategy"]) == (
        "provisioning", "n1", "pending", "reserve")
    assert dispatched == [task["id"]]
    node = client.get("/v1/nodes/n1").get_json()
    assert (node["state"], node["maintenance"], node["power_device"], node["active_task"]) == (
        "maintenance", True, "n1-bmc", task["id"])
    device = client.get("/v1/power-devices/n1-bmc").get_json()
    assert (device["hostname"], device["password"]) == ("n1", "***")
    # Again while it runs: the same task, not queued twice.
    again = client.post("/v1/nodes", json={"hostname": "n1", "mac": MAC,
                                           "power_device": "n1-bmc"})
    assert (again.status_code, again.get_json()["id"], dispatched) == (202, task["id"],
                                                                       [task["id"]])


@pytest.mark.parametrize(("body", "fragment"), [
    ({"hostname": "n1", "mac": "52:54:00:12:34", "power_device": "d"}, "does not match"),
    ({"hostname": "n/1", "mac": MAC, "power_device": "d"}, "does not match"),
    ({"hostname": "n1", "mac": MAC}, "power_device"),
    ({"hostname": "n1", "mac": MAC, "power_device": "d", "new_power_device": BMC},
     "power_device"),
    ({"hostname": "n1", "mac": MAC, "new_power_device": {**BMC, "hostname": "n2"}},
     "hostname"),
    ({"hostname": "n1", "mac": MAC, "new_power_device": {**BMC, "driver": "x"}}, "driver"),
    ({"mac": MAC, "power_device": "d"}, "'hostname' is a required property"),
])
def test_add_refuses_a_malformed_request_with_400(client, body, fragment):
    assert fragment in error_of(client.post("/v1/nodes", json=body), 400)


def test_add_answers_404_and_409_with_what_is_wrong_and_keeps_nothing(client, runtime,
                                                                      dispatched):
    assert error_of(client.post("/v1/nodes", json={
        "hostname": "n1", "mac": MAC, "power_device": "nope"}), 404) == "no power device 'nope'"
    with runtime.transaction() as session:
        session.add(Node(hostname="compute-1", state="up", state_reason="test"))
    assert error_of(client.post("/v1/nodes", json={
        "hostname": "compute-1", "mac": MAC, "new_power_device": BMC}), 409) == (
        "node 'compute-1' is already known to CloudManager (it runs nova-compute): nothing "
        "to provision")
    assert client.post("/v1/nodes", json={"hostname": "n1", "mac": MAC,
                                          "new_power_device": BMC}).status_code == 202
    assert error_of(client.post("/v1/nodes", json={
        "hostname": "n2", "mac": MAC.replace(":", "-"),
        "new_power_device": {**BMC, "name": "n2-bmc"}}), 409) == (
        f"MAC {MAC} is already registered for node 'n1'")
    assert error_of(client.post("/v1/nodes", json={
        "hostname": "n3", "mac": "52:54:00:12:34:57", "power_device": "n1-bmc"}), 409) == (
        "power device 'n1-bmc' powers node 'n1'")
    with runtime.transaction() as session:
        assert sorted(n.hostname for n in session.query(Node)) == ["compute-1", "n1"]
        assert [d.name for d in session.query(PowerDevice)] == ["n1-bmc"]
        assert session.query(Task).count() == 1
    assert len(dispatched) == 1


def test_the_openapi_document_describes_node_add(client):
    document = client.get("/openapi.json").get_json()
    operation = document["paths"]["/v1/nodes"]["post"]
    assert {"202", "400", "404", "409"} <= set(operation["responses"])
