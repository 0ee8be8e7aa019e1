"""The CloudManager REST API through Flask's test client, on a migrated SQLite database."""

from __future__ import annotations

import json
import logging
import socket
import uuid

import pytest
import sqlalchemy as sa

from aos import conf as aos_conf
from aos import crypto, db
from aos.db.migrations import Migrator
from cloud_manager.api import cloud_manager_api
from cloud_manager.api.policies import RULES
from cloud_manager.api.routes import API
from cloud_manager.db.models import Node, NodeEvent, PowerDevice, Task, TaskItem
from cloud_manager.module import MODULE

PASSWORD = "s3cr3t-bmc-password"


def make_conf(aos_env, audit: bool = True):
    """What ``openstack aos configure`` + ``db migrate`` leave behind, with noauth."""
    (aos_env["etc"] / "cloud_manager.conf").write_text(
        f"[api]\nauth_strategy = noauth\naudit_enabled = {str(audit).lower()}\n"
    )
    crypto.create_key_file(aos_env["state"] / "secret.key")
    conf = aos_conf.load(MODULE)
    engine = db.create_engine(db.database_url(conf, MODULE))
    Migrator(MODULE, engine).migrate()
    engine.dispose()
    return conf


@pytest.fixture
def app(aos_env):
    return cloud_manager_api.create_app(make_conf(aos_env))


def add_node(runtime, hostname: str, state: str = "up", reserve: bool = False) -> None:
    with runtime.transaction() as session:
        session.add(Node(hostname=hostname, state=state, reserve=reserve,
                         maintenance=state == "maintenance", state_reason="test"))


def add_task(runtime, hostname: str, state: str, item_states: list[str]) -> str:
    task_id = str(uuid.uuid4())
    with runtime.transaction() as session:
        session.add(Task(id=task_id, kind="evacuation", hostname=hostname, state=state,
                         strategy="auto", reason="test"))
        session.flush()
        for number, item_state in enumerate(item_states):
            session.add(TaskItem(task_id=task_id, instance_id=f"vm-{number}",
                                 instance_name=f"server-{number}", priority=5 - number,
                                 target_host="compute-9", pool="main", state=item_state))
    return task_id


def error_of(response, status: int) -> str:
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()["error"]["message"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- nodes ---------------------------------------------------------------------------------

def test_list_nodes_filters_by_state_and_reserve(client, runtime):
    add_node(runtime, "compute-2", "down")
    add_node(runtime, "compute-1")
    add_node(runtime, "reserve-1", reserve=True)

    listed = client.get("/v1/nodes").get_json()
    assert [n["hostname"] for n in listed] == ["compute-1", "compute-2", "reserve-1"]
    assert listed[0]["state_since"].endswith("Z")
    assert [n["hostname"] for n in client.get("/v1/nodes?state=down").get_json()] == [
        "compute-2"]
    assert [n["hostname"] for n in client.get("/v1/nodes?reserve=true").get_json()] == [
        "reserve-1"]
    assert len(client.get("/v1/nodes?reserve=false").get_json()) == 2
    assert "must be true or false" in error_of(client.get("/v1/nodes?reserve=maybe"), 400)
    assert "must be true or false, not ''" in error_of(client.get("/v1/nodes?reserve="), 400)


def test_show_node_with_events_device_and_active_task(client, runtime):
    add_node(runtime, "compute-1", "fenced")
    with runtime.transaction() as session:
        for number in range(60):
            session.add(NodeEvent(hostname="compute-1", kind="alert", message=f"alert {number}"))
        session.add(PowerDevice(name="bmc-1", driver="ipmi", address="10.0.0.1",
                                hostname="compute-1"))
    task_id = add_task(runtime, "compute-1", "evacuating", ["pending"])

    shown = client.get("/v1/nodes/compute-1").get_json()
    assert shown["hostname"] == "compute-1"
    assert shown["state"] == "fenced"
    assert shown["power_device"] == "bmc-1"
    assert shown["active_task"] == task_id
    assert len(shown["events"]) == 50
    assert shown["events"][0]["message"] == "alert 59"
    assert shown["events"][0]["created_at"].endswith("Z")

    assert error_of(client.get("/v1/nodes/nowhere"), 404) == "no compute node 'nowhere'"


def test_maintenance_on_and_off_goes_through_the_state_machine(client, runtime):
    add_node(runtime, "compute-1", "suspect")

    response = client.patch("/v1/nodes/compute-1",
                            json={"maintenance": True, "reason": "disk swap"})
    assert response.status_code == 200, response.get_data(as_text=True)
    node = response.get_json()
    assert (node["state"], node["maintenance"]) == ("maintenance", True)
    assert node["state_reason"] == "disk swap"
    kinds = [(e["kind"], e["to_state"]) for e in node["events"]]
    assert ("transition", "maintenance") in kinds
    action = next(e for e in node["events"] if e["kind"] == "action")
    assert action["message"] == "maintenance on by user noauth: disk swap"

    back = client.patch("/v1/nodes/compute-1", json={"maintenance": False}).get_json()
    assert (back["state"], back["maintenance"]) == ("up", False)
    with runtime.transaction() as session:
        actions = session.scalars(sa.select(NodeEvent.message).where(
            NodeEvent.kind == "action").order_by(NodeEvent.id)).all()
    assert actions[-1] == "maintenance off by user noauth"
    assert back["state_reason"] == "maintenance off requested by user noauth"


def test_leaving_maintenance_refused_by_the_state_machine(client, runtime):
    add_node(runtime, "compute-1", "down")
    response = client.patch("/v1/nodes/compute-1", json={"maintenance": False})
    assert error_of(response, 409) == (
        "compute-1: cannot go from down to up (allowed from down: fenced, maintenance, "
        "recovering); requested because: maintenance off requested by user noauth")
    shown = client.get("/v1/nodes/compute-1").get_json()
    assert shown["state"] == "down"
    assert shown["events"] == []

    unchanged = client.patch("/v1/nodes/compute-1", json={"maintenance": True})
    again = client.patch("/v1/nodes/compute-1", json={"maintenance": True})
    assert unchanged.status_code == again.status_code == 200
    assert len([e for e in again.get_json()["events"] if e["kind"] == "action"]) == 1


def test_reserve_flag_and_conflict_with_active_task(client, runtime):
    add_node(runtime, "compute-1")
    add_node(runtime, "compute-2", "down")
    add_task(runtime, "compute-2", "pending", [])

    node = client.patch("/v1/nodes/compute-1", json={"reserve": True, "reason": "spare"})
    assert node.get_json()["reserve"] is True
    assert any(e["message"] == "reserve on by user noauth: spare"
               for e in node.get_json()["events"])

    message = error_of(client.patch("/v1/nodes/compute-2", json={"reserve": True}), 409)
    assert message.startswith("node 'compute-2' has an active task")
    assert client.get("/v1/nodes/compute-2").get_json()["reserve"] is False


@pytest.mark.parametrize(("body", "fragment"), [
    ({}, "is not valid under any of the given schemas"),
    ({"reason": "why"}, "is not valid under any of the given schemas"),
    ({"maintenance": "yes"}, "invalid body at maintenance: 'yes' is not of type 'boolean'"),
    ({"maintenance": True, "colour": "red"}, "Additional properties are not allowed"),
])
def test_update_node_validation(client, runtime, body, fragment):
    add_node(runtime, "compute-1")
    assert fragment in error_of(client.patch("/v1/nodes/compute-1", json=body), 400)


def test_update_unknown_node(client):
    message = error_of(client.patch("/v1/nodes/ghost", json={"maintenance": True}), 404)
    assert message == "no compute node 'ghost'"


# --- evacuation ----------------------------------------------------------------------------

def test_evacuate_validation_and_live_node_guard(client, runtime):
    add_node(runtime, "compute-1")
    message = error_of(client.post("/v1/nodes/compute-1/evacuate",
                                   json={"strategy": "anywhere"}), 400)
    assert "invalid body at strategy: 'anywhere' is not one of" in message
    message = error_of(client.post("/v1/nodes/compute-1/evacuate", json={}), 409)
    assert message.startswith("node 'compute-1' is up: it may still run its instances")
    assert error_of(client.post("/v1/nodes/ghost/evacuate", json={}), 404) == (
        "no compute node 'ghost'")


def test_evacuate_creates_a_task_and_refuses_a_second(client, runtime):
    dispatched: list[str] = []
    runtime.dispatch_task = dispatched.append  # the task queue, not the code under test
    add_node(runtime, "compute-1", "fenced")
    add_node(runtime, "compute-2")

    response = client.post("/v1/nodes/compute-1/evacuate",
                           json={"strategy": "rh_priority", "reason": "PSU failure"})
    assert response.status_code == 202, response.get_data(as_text=True)
    task = response.get_json()
    assert (task["hostname"], task["strategy"], task["state"]) == (
        "compute-1", "rh_priority", "pending")
    assert task["reason"] == "PSU failure (requested by user noauth)"
    assert dispatched == [task["id"]]
    assert client.get("/v1/nodes/compute-1").get_json()["active_task"] == task["id"]

    again = client.post("/v1/nodes/compute-1/evacuate", json={})
    assert error_of(again, 409) == "node 'compute-1' already has an active task"

    forced = client.post("/v1/nodes/compute-2/evacuate", json={"force": True})
    assert forced.status_code == 202
    assert forced.get_json()["strategy"] == "auto"  # [host_tasks] evacuation_strategy


def test_shutdown_of_a_running_node_with_a_power_device(client, runtime):
    dispatched: list[str] = []
    runtime.dispatch_task = dispatched.append
    add_node(runtime, "compute-1")
    add_node(runtime, "compute-2", "down")
    add_node(runtime, "compute-3", "maintenance")
    assert error_of(client.post("/v1/nodes/compute-1/shutdown", json={}), 409) == (
        "node 'compute-1' has no power device: CloudManager cannot shut it down")
    assert create_device(client, hostname="compute-1").status_code == 201
    assert error_of(client.post("/v1/nodes/compute-2/shutdown", json={}), 409) == (
        "node 'compute-2' is down, not running: use evacuate for a node that is already down")
    assert error_of(client.post("/v1/nodes/compute-3/shutdown", json={}), 409).startswith(
        "node 'compute-3' is maintenance, not running")
    assert "is not one of" in error_of(
        client.post("/v1/nodes/compute-1/shutdown", json={"strategy": "x"}), 400)
    assert error_of(client.post("/v1/nodes/ghost/shutdown", json={}), 404) == (
        "no compute node 'ghost'")
    assert dispatched == []

    response = client.post("/v1/nodes/compute-1/shutdown", json={"reason": "firmware"})
    assert response.status_code == 202, response.get_data(as_text=True)
    task = response.get_json()
    assert (task["kind"], task["reason"]) == (
        "planned-shutdown", "firmware (requested by user noauth)")
    assert dispatched == [task["id"]]


# --- power devices -------------------------------------------------------------------------

def create_device(client, **fields):
    body = {"name": "bmc-1", "driver": "ipmi", "address": "10.0.0.1", **fields}
    return client.post("/v1/power-devices", json=body)


def test_power_device_crud_keeps_the_password_secret(client, runtime):
    response = create_device(client, password=PASSWORD, username="admin", port=623,
                             hostname="compute-1", driver="redfish",
                             options={"system_id": "1", "verify": "/etc/ssl/bmc-ca.pem"})
    assert response.status_code == 201, response.get_data(as_text=True)
    created = response.get_json()
    assert created["password"] == "***"
    assert created["options"] == {"system_id": "1", "verify": "/etc/ssl/bmc-ca.pem"}
    assert created["created_at"].endswith("Z")

    with runtime.transaction() as session:
        secret = session.scalar(sa.select(PowerDevice.secret))
    assert secret and PASSWORD not in secret
    assert runtime.secrets.decrypt(secret) == PASSWORD

    assert create_device(client, name="bmc-2").get_json()["password"] is None
    for path in ("/v1/power-devices", "/v1/power-devices/bmc-1", "/v1/nodes"):
        assert PASSWORD not in client.get(path).get_data(as_text=True)
    assert [d["name"] for d in client.get("/v1/power-devices").get_json()] == ["bmc-1", "bmc-2"]
    assert client.get("/v1/power-devices/bmc-1").get_json()["username"] == "admin"

    deleted = client.delete("/v1/power-devices/bmc-1")
    assert deleted.status_code == 204 and deleted.get_data() == b""
    assert error_of(client.get("/v1/power-devices/bmc-1"), 404) == "no power device 'bmc-1'"
    assert error_of(client.delete("/v1/power-devices/bmc-1"), 404) == "no power device 'bmc-1'"


def test_power_device_conflicts(client):
    assert create_device(client, hostname="compute-1").status_code == 201
    assert error_of(create_device(client), 409) == "power device 'bmc-1' already exists"
    assert error_of(create_device(client, name="bmc-2", hostname="compute-1"), 409) == (
        "node 'compute-1' already has a power device")


@pytest.mark.parametrize(("fields", "fragment"), [
    ({"driver": "telnet"}, "invalid body at driver: 'telnet' is not one of"),
    ({"port": 0}, "invalid body at port: 0 is less than the minimum of 1"),
    ({"secret": "x"}, "Additional properties are not allowed ('secret' was unexpected)"),
    ({"options": "a=b"}, "invalid body at options: 'a=b' is not of type 'object'"),
])
def test_power_device_validation(client, fields, fragment):
    assert fragment in error_of(create_device(client, **fields), 400)


def test_power_device_without_required_field(client):
    response = client.post("/v1/power-devices", json={"name": "bmc-1", "driver": "ssh"})
    assert error_of(response, 400) == "invalid body: 'address' is a required property"


def test_power_action_failure_is_a_502_json_error(client, runtime):
    add_node(runtime, "compute-1")
    port = free_port()  # nothing listens there: the SSH connection is refused
    create_device(client, name="ssh-1", driver="ssh", address="127.0.0.1", port=port,
                  username="root", password=PASSWORD, hostname="compute-1",
                  options={"status": "echo on", "on": "true", "off": "true"})
    response = client.post("/v1/power-devices/ssh-1/action", json={"action": "status"})
    message = error_of(response, 502)
    assert message.startswith("power device ssh-1 (SSH 127.0.0.1):")
    assert PASSWORD not in response.get_data(as_text=True)

    refused = create_device(client, name="ssh-2", driver="ssh", address="127.0.0.1")
    assert error_of(refused, 400) == "invalid body: 'options' is a required property"

    bad = client.post("/v1/power-devices/ssh-1/action", json={"action": "reboot"})
    assert "'reboot' is not one of ['on', 'off', 'status', 'cycle']" in error_of(bad, 400)
    missing = client.post("/v1/power-devices/ghost/action", json={"action": "status"})
    assert error_of(missing, 404) == "no power device 'ghost'"


# --- tasks and events ----------------------------------------------------------------------

def test_tasks_list_and_show_with_progress(client, runtime):
    done = add_task(runtime, "compute-1", "evacuating", ["done", "failed", "unplaced",
                                                         "requested", "pending"])
    empty = add_task(runtime, "compute-2", "done", [])

    assert {t["hostname"] for t in client.get("/v1/tasks").get_json()} == {"compute-1",
                                                                          "compute-2"}
    only = client.get("/v1/tasks?hostname=compute-1").get_json()
    assert [t["id"] for t in only] == [done]
    assert [t["hostname"] for t in client.get("/v1/tasks?state=done").get_json()] == [
        "compute-2"]

    shown = client.get(f"/v1/tasks/{done}").get_json()
    assert shown["progress"] == 60
    assert (shown["finished"], shown["total"]) == (3, 5)
    assert shown["counts"] == {"done": 1, "failed": 1, "unplaced": 1, "requested": 1,
                               "pending": 1}
    first = shown["items"][0]
    assert set(first) == {"instance_id", "instance_name", "priority", "target_host", "pool",
                          "state", "attempts", "message"}
    assert first["priority"] == 5  # highest recovery priority first

    assert client.get(f"/v1/tasks/{empty}").get_json()["progress"] == 100
    assert error_of(client.get("/v1/tasks/nope"), 404) == "no task 'nope'"


def test_events_filters_and_limit(client, runtime):
    with runtime.transaction() as session:
        for number in range(5):
            session.add(NodeEvent(hostname="compute-1", kind="alert", message=f"a{number}"))
        session.add(NodeEvent(hostname="compute-2", kind="action", message="b"))

    assert len(client.get("/v1/events").get_json()) == 6
    assert [e["message"] for e in client.get("/v1/events?hostname=compute-1&limit=2")
            .get_json()] == ["a4", "a3"]
    assert [e["message"] for e in client.get("/v1/events?kind=action").get_json()] == ["b"]
    assert "between 1 and 1000" in error_of(client.get("/v1/events?limit=0"), 400)
    assert "whole number" in error_of(client.get("/v1/events?limit="), 400)
    assert "whole number" in error_of(client.get("/v1/events?limit=ten"), 400)


# --- documents and audit -------------------------------------------------------------------

def test_openapi_lists_every_route(client):
    document = client.get("/openapi.json").get_json()
    published = {(method, path) for path, methods in document["paths"].items()
                 for method in methods}
    assert published == {
        ("get", "/v1/nodes"), ("post", "/v1/nodes"), ("get", "/v1/nodes/{hostname}"),
        ("get", "/v1/balancing/{aggregate}/plan"), ("get", "/v1/balancing/{aggregate}/snapshot"),
        ("post", "/v1/balancing/{aggregate}/run"), ("put", "/v1/aggregates/{aggregate}/balancing"),
        ("get", "/v1/drs/plans"), ("post", "/v1/drs/plans/{plan}/apply"),
        ("patch", "/v1/nodes/{hostname}"), ("post", "/v1/nodes/{hostname}/evacuate"),
        ("post", "/v1/nodes/{hostname}/shutdown"),
        ("get", "/v1/power-devices"), ("post", "/v1/power-devices"),
        ("get", "/v1/power-devices/{name}"), ("delete", "/v1/power-devices/{name}"),
        ("post", "/v1/power-devices/{name}/action"),
        ("get", "/v1/tasks"), ("get", "/v1/tasks/{task_id}"), ("get", "/v1/events"),
        ("get", "/v1/storage"), ("get", "/v1/storage/{pool}"),
        ("get", "/v1/nodes/{hostname}/agent/instances"),
        ("post", "/v1/nodes/{hostname}/agent/restart-compute"),
    }
    assert {route.rule for route in API.routes} == {
        rule.name for rule in RULES if rule.name.startswith("cloud_manager:")}
    assert document["paths"]["/v1/power-devices"]["post"]["x-policy-rule"] == (
        "cloud_manager:power_device:create")


@pytest.mark.parametrize("audit", [True, False])
def test_audit_log(aos_env, caplog, audit):
    app = cloud_manager_api.create_app(make_conf(aos_env, audit=audit))
    caplog.set_level(logging.INFO, logger="aos.audit")
    response = app.test_client().post("/v1/power-devices", json={
        "name": "bmc-1", "driver": "ipmi", "address": "10.0.0.1", "password": PASSWORD})
    assert response.status_code == 201
    lines = [r.getMessage() for r in caplog.records if r.name == "aos.audit"]
    if audit:
        assert len(lines) == 1
        assert lines[0].startswith("POST /v1/power-devices -> 201 user=noauth")
    else:
        assert lines == []
    assert all(PASSWORD not in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("address", ["no-such-host.invalid", "a..b", "x" * 250])
def test_ipmi_device_with_an_unusable_address_is_a_502_not_a_500(client, address):
    """socket.gaierror and IDNA's UnicodeError used to escape the IPMI driver."""
    assert create_device(client, name="bad", address=address).status_code == 201
    response = client.post("/v1/power-devices/bad/action", json={"action": "status"})
    assert error_of(response, 502).startswith("power device bad (IPMI ")


@pytest.mark.parametrize(("fields", "fragment"), [
    ({"address": "b\u00fccher.example"}, "invalid body at address"),
    ({"password": "p" * 2000}, "invalid body at password: 'ppp"),
    ({"options": {f"k{i}": "v" for i in range(20)}}, "invalid body at options"),
    ({"driver": "redfish", "options": {"verify": "false"}}, "invalid body at options/verify"),
    ({"driver": "ssh", "options": {"on": "x", "off": "y"}},
     "invalid body at options: 'status' is a required property"),
    ({"driver": "redfish", "options": {"extra": 1}}, "'extra' was unexpected"),
])
def test_power_device_fields_are_bounded_and_typed(client, fields, fragment):
    assert fragment in error_of(create_device(client, **fields), 400)
    assert client.get("/v1/power-devices").get_json() == []


def test_a_huge_invalid_value_is_not_echoed_back(client):
    reason = "r" * 1_000_000
    add_node_response = client.post("/v1/nodes/compute-1/evacuate", json={"reason": reason})
    message = error_of(add_node_response, 400)
    assert len(add_node_response.get_data()) < 1000
    assert message.startswith("invalid body at reason: 'rrrr") and "is too long" in message
    long_name = client.get("/v1/nodes/" + "n" * 5000)
    assert len(error_of(long_name, 404)) <= 600


def test_openapi_document_is_true_to_the_server(client):
    doc = client.get("/openapi.json").get_json()
    delete = doc["paths"]["/v1/power-devices/{name}"]["delete"]
    assert "204" in delete["responses"] and "200" not in delete["responses"]
    action = doc["paths"]["/v1/power-devices/{name}/action"]["post"]
    assert "502" in action["responses"]
    assert action["responses"]["200"]["content"]["application/json"]["schema"]["properties"][
        "power_state"] == {"enum": ["on", "off", "unknown"]}
    params = {p["name"]: p["schema"] for p in doc["paths"]["/v1/events"]["get"]["parameters"]}
    assert params["limit"] == {"type": "integer", "minimum": 1, "maximum": 1000}
    params = {p["name"]: p["schema"] for p in doc["paths"]["/v1/nodes"]["get"]["parameters"]}
    assert params["reserve"] == {"type": "boolean"}
    text = json.dumps(doc)
    assert '"null"' not in text  # OpenAPI 3.0: nullable, not 3.1 type lists
    port = doc["paths"]["/v1/power-devices"]["post"]["requestBody"]["content"][
        "application/json"]["schema"]["properties"]["port"]
    assert port["type"] == "integer" and port["nullable"] is True


def test_duplicate_device_name_created_concurrently_is_a_409(client, runtime):
    """Another request inserts the same name between this one's check and its insert: the
    unique constraint decides, and the loser gets a 409, not a 500."""
    engine = runtime.sessions.kw["bind"]
    raced: list[bool] = []

    def other_request_first(conn, cursor, statement, *args) -> None:
        if statement.startswith("INSERT INTO power_devices") and not raced:
            raced.append(True)
            with engine.connect() as other, other.begin():
                other.execute(sa.insert(PowerDevice).values(
                    name="bmc-1", driver="ipmi", address="10.0.0.9",
                    created_at=sa.func.now(), updated_at=sa.func.now()))

    sa.event.listen(engine, "before_cursor_execute", other_request_first)
    try:
        response = create_device(client)
    finally:
        sa.event.remove(engine, "before_cursor_execute", other_request_first)
    assert raced
    assert "conflicts with a record created at the same time" in error_of(response, 409)
    assert [d["address"] for d in client.get("/v1/power-devices").get_json()] == ["10.0.0.9"]


def test_node_list_and_show_read_the_inventory(client, runtime):
    from datetime import datetime

    from cloud_manager.db import api as db_api
    from cloud_manager.model.inventory import HostRecord, InstanceRecord, Resource

    add_node(runtime, "compute-1")
    add_node(runtime, "compute-2")
    at = datetime(2026, 12, 1, 12, 0)
    with runtime.transaction() as session:
        db_api.write_hosts(session, [HostRecord(
            hostname="compute-1", hypervisor_hostname="compute-1.example.org", enabled=True,
            forced_down=False, disabled_reason=None, changed_at=at, az="nova",
            aggregates=("rack-1",), resources={
                "MEMORY_MB": Resource(total=8192, reserved=0, allocation_ratio=1.0, used=1024)})])
        db_api.write_instances(session, [
            InstanceRecord(id="i1", name="web", host="compute-1", state="active", ram_mb=2048,
                           vcpus=2, disk_gb=10, changed_at=at,
                           metadata={"aos:recovery_priority": "9"}),
            InstanceRecord(id="i2", name="gone", host=None, state="deleted", changed_at=at,
                           deleted=True)])
        db_api.add_sync(session, started_at=at, hosts=1, instances=1, repairs=0, summary="")

    listed = {n["hostname"]: n for n in client.get("/v1/nodes").get_json()}
    assert listed["compute-1"]["instances"] == 1
    assert listed["compute-1"]["free_ram_mb"] == 8192 - 2048
    assert listed["compute-1"]["hypervisor_hostname"] == "compute-1.example.org"
    assert listed["compute-2"]["instances"] is None  # not in the inventory yet

    shown = client.get("/v1/nodes/compute-1").get_json()["inventory"]
    assert shown["aggregates"] == ["rack-1"]
    assert shown["resources"]["MEMORY_MB"] == {"total": 8192, "reserved": 0,
                                               "allocation_ratio": 1.0, "used": 2048,
                                               "free": 6144}
    assert [(i["name"], i["recovery_priority"]) for i in shown["instances"]] == [("web", 9)]
    assert shown["last_sync"].endswith("Z")
    assert client.get("/v1/nodes/compute-2").get_json()["inventory"] is None
