"""``openstack aos node|power-device|task|event`` through the real ``openstack`` command.

The API runs for real (werkzeug server in a thread, ``auth_strategy = noauth``); the CLI
reaches it with ``--os-auth-type none --os-cloud-manager-url``, as an operator would without
a catalog entry.
"""

from __future__ import annotations

import threading
import time
from importlib.metadata import entry_points

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from cloud_manager.api import cloud_manager_api
from cloud_manager.db import api as db_api
from cloud_manager.db.models import Node, NodeEvent, PowerDevice, Task
from cloud_manager.model.storage import PoolState
from tests.cli import openstack
from tests.unit.cloud_manager.test_api import PASSWORD, add_node, add_task, make_conf
from tests.unit.cloud_manager.test_storage_api import stored_pool


class _Serving:
    """The API served in a thread on ``port`` (0: any free one), until ``stop``."""

    def __init__(self, app, port: int = 0) -> None:
        self.httpd = make_server("127.0.0.1", port, app, threaded=True)
        self.port = self.httpd.server_port
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)


@pytest.fixture
def app(aos_env):
    return cloud_manager_api.create_app(make_conf(aos_env))


@pytest.fixture
def server(app):
    serving = _Serving(app)
    yield f"http://127.0.0.1:{serving.port}", app.extensions["runtime"]
    serving.stop()


def aos(url: str, *args: str, env: dict[str, str] | None = None):
    return openstack("--os-auth-type", "none", "--os-cloud-manager-url", url, "aos", *args,
                     env=env)


def one_line_error(result) -> str:
    assert result.code != 0, result.out
    lines = [line for line in result.err.splitlines() if line.strip()]
    assert len(lines) == 1, result.err
    return lines[0]


def test_node_list_and_show_as_json(server):
    url, runtime = server
    add_node(runtime, "compute-1", "down")
    add_node(runtime, "reserve-1", reserve=True)

    listed = aos(url, "node", "list", "-f", "json")
    assert listed.code == 0, listed.err
    assert [(n["Hostname"], n["State"], n["Reserve"]) for n in listed.json()] == [
        ("compute-1", "down", False), ("reserve-1", "up", True)]
    reserve_only = aos(url, "node", "list", "--reserve", "-f", "json")
    assert [n["Hostname"] for n in reserve_only.json()] == ["reserve-1"]

    shown = aos(url, "node", "show", "compute-1", "-f", "json")
    assert shown.code == 0, shown.err
    node = shown.json()
    assert (node["Hostname"], node["State"], node["Power device"]) == ("compute-1", "down", None)
    assert node["Events"] == []


def test_environment_variables_work_as_well(server):
    url, runtime = server
    add_node(runtime, "compute-1")
    result = openstack("aos", "node", "list", "-f", "value", "-c", "Hostname",
                       env={"OS_AUTH_TYPE": "none", "OS_CLOUD_MANAGER_URL": url})
    assert result.code == 0, result.err
    assert result.out.split() == ["compute-1"]


def test_node_maintenance_and_reserve(server):
    url, runtime = server
    add_node(runtime, "compute-1")

    on = aos(url, "node", "maintenance", "compute-1", "--on", "--reason", "firmware",
             "-f", "json")
    assert on.code == 0, on.err
    assert (on.json()["State"], on.json()["Maintenance"]) == ("maintenance", True)
    assert aos(url, "node", "maintenance", "compute-1", "--off").code == 0
    assert aos(url, "node", "reserve", "compute-1", "--on").code == 0
    with runtime.transaction() as session:
        node = session.scalar(sa.select(Node))
        assert (node.state, node.reserve) == ("up", True)
        messages = session.scalars(sa.select(NodeEvent.message).where(
            NodeEvent.kind == "action").order_by(NodeEvent.id)).all()
    assert messages == ["maintenance on by user noauth: firmware",
                        "maintenance off by user noauth", "reserve on by user noauth"]

    usage = aos(url, "node", "maintenance", "compute-1")
    assert usage.code != 0
    assert "one of the arguments --on --off is required" in usage.err


def test_power_device_create_list_show_delete(server):
    url, runtime = server
    created = aos(url, "power-device", "create", "bmc-1", "--driver", "redfish",
                  "--address", "10.0.0.5", "--username", "root", "--password", PASSWORD,
                  "--hostname", "compute-1", "--option", "system_id=1",
                  "--option", "verify=False", "-f", "json")
    assert created.code == 0, created.err
    device = created.json()
    assert device["Password"] == "***"
    assert device["Options"] == {"system_id": "1", "verify": False}  # a boolean, not a path
    assert PASSWORD not in created.out + created.err
    with runtime.transaction() as session:
        assert PASSWORD not in session.scalar(sa.select(PowerDevice.secret))

    listed = aos(url, "power-device", "list", "-f", "json")
    assert [(d["Name"], d["Driver"], d["Hostname"]) for d in listed.json()] == [
        ("bmc-1", "redfish", "compute-1")]
    shown = aos(url, "power-device", "show", "bmc-1", "-f", "json")
    assert shown.json()["Address"] == "10.0.0.5"
    assert PASSWORD not in listed.out + shown.out

    duplicate = aos(url, "power-device", "create", "bmc-1", "--driver", "ipmi",
                    "--address", "10.0.0.6")
    assert one_line_error(duplicate) == "409: power device 'bmc-1' already exists"

    deleted = aos(url, "power-device", "delete", "bmc-1")
    assert deleted.code == 0, deleted.err
    assert aos(url, "power-device", "list", "-f", "json").json() == []
    assert one_line_error(aos(url, "power-device", "show", "bmc-1")) == (
        "404: no power device 'bmc-1'")


def test_ssh_device_without_its_commands_is_refused_at_create(server):
    url, _ = server
    line = one_line_error(aos(url, "power-device", "create", "pdu-1", "--driver", "ssh",
                              "--address", "127.0.0.1", "--option", "on=poweron"))
    assert line == "400: invalid body at options: 'off' is a required property"
    assert aos(url, "power-device", "list", "-f", "json").json() == []


def test_power_failure_is_one_line(server):
    url, _ = server
    known_hosts = "/nonexistent/known_hosts"
    assert aos(url, "power-device", "create", "pdu-1", "--driver", "ssh", "--address",
               "127.0.0.1", "--port", "9", "--option", "on=on", "--option", "off=off",
               "--option", "status=status", "--option", f"known_hosts={known_hosts}").code == 0
    line = one_line_error(aos(url, "power-device", "off", "pdu-1"))
    assert line.startswith("502: power device pdu-1 (SSH 127.0.0.1): "), line


def test_verify_option_is_a_boolean_or_a_ca_bundle_path(server):
    url, _ = server
    bad = aos(url, "power-device", "create", "x", "--driver", "redfish", "--address", "a",
              "--option", "verify=no")
    assert bad.code != 0
    assert "verify is true, false or the absolute path of a CA bundle, not 'no'" in bad.err


def test_unknown_node_and_bad_option_value(server):
    url, _ = server
    assert one_line_error(aos(url, "node", "show", "ghost")) == "404: no compute node 'ghost'"
    bad = aos(url, "power-device", "create", "x", "--driver", "ipmi", "--address", "a",
              "--option", "novalue")
    assert bad.code != 0
    assert "expected KEY=VALUE, not 'novalue'" in bad.err


def test_unreachable_api_is_one_line(aos_env):
    line = one_line_error(aos("http://127.0.0.1:9", "node", "list"))
    assert line.startswith("cannot reach the cloud-manager API")


def test_task_show_waits_until_the_task_is_final(server):
    url, runtime = server
    task_id = add_task(runtime, "compute-1", "evacuating", ["done", "requested"])

    def finish_later() -> None:
        time.sleep(1.5)
        with runtime.transaction() as session:
            task = session.get(Task, task_id)
            task.state = "done"
            task.items[1].state = "done"

    finisher = threading.Thread(target=finish_later)
    finisher.start()
    started = time.monotonic()
    result = aos(url, "task", "show", task_id, "--wait", "--poll-interval", "0.2",
                 "-f", "json")
    finisher.join()
    assert result.code == 0, result.err
    assert time.monotonic() - started >= 1.5
    task = result.json()
    assert (task["State"], task["Progress"], task["Finished"]) == ("done", 100, 2)
    assert [item["state"] for item in task["Items"]] == ["done", "done"]
    assert "2/2" in result.err

    listed = aos(url, "task", "list", "--hostname", "compute-1", "-f", "json")
    assert [t["Id"] for t in listed.json()] == [task_id]


def test_task_wait_outlives_an_api_restart_quietly(app):
    """The poll loop's GETs are sent again after a dropped connection: no error, no noise."""
    runtime = app.extensions["runtime"]
    task_id = add_task(runtime, "compute-1", "evacuating", ["requested"])
    first = _Serving(app)
    url = f"http://127.0.0.1:{first.port}"
    waited = {}
    waiter = threading.Thread(target=lambda: waited.update(result=aos(
        url, "task", "show", task_id, "--wait", "--poll-interval", "0.2", "-f", "json")))
    waiter.start()
    time.sleep(2.5)  # the CLI is polling
    first.stop()
    time.sleep(1.0)  # polls find nobody listening
    with runtime.transaction() as session:
        task = session.get(Task, task_id)
        task.state = "done"
        task.items[0].state = "done"
    second = _Serving(app, first.port)
    waiter.join(timeout=60)
    second.stop()
    result = waited["result"]
    assert result.code == 0, result.err
    assert result.json()["State"] == "done"
    assert "cannot reach" not in result.err and "Retrying" not in result.err, result.err


def test_task_wait_on_an_api_that_stays_down_is_one_line(aos_env):
    line = one_line_error(aos("http://127.0.0.1:9", "task", "show", "x", "--wait"))
    assert line.startswith("cannot reach the cloud-manager API")


def test_task_wait_timeout(server):
    url, runtime = server
    task_id = add_task(runtime, "compute-1", "pending", ["pending"])
    result = aos(url, "task", "show", task_id, "--wait", "--poll-interval", "0.1",
                 "--timeout", "0.5")
    assert result.code != 0
    assert f"task {task_id} is still pending after 0.5 s (0/1 instances finished)" in result.err


def test_event_list(server):
    url, runtime = server
    with runtime.transaction() as session:
        session.add(NodeEvent(hostname="compute-1", kind="alert", message="disk full"))
        session.add(NodeEvent(hostname="compute-2", kind="action", message="reboot"))
    result = aos(url, "event", "list", "--kind", "alert", "-f", "json")
    assert result.code == 0, result.err
    assert [(e["Hostname"], e["Message"]) for e in result.json()] == [("compute-1",
                                                                      "disk full")]


def test_storage_list_and_show(server):

    url, runtime = server
    with runtime.transaction() as session:
        db_api.write_pools(session, [stored_pool("ctl@ebs#ebs", PoolState.DOWN)])
    listed = aos(url, "storage", "list", "-f", "json")
    assert listed.code == 0, listed.err
    assert [(p["Name"], p["State"], p["Hosts"]) for p in listed.json()] == [
        ("ctl@ebs#ebs", "down", ["c1"])]
    shown = aos(url, "storage", "show", "ctl@ebs#ebs", "-f", "json")
    assert shown.code == 0, shown.err
    assert (shown.json()["Backend"], shown.json()["Last sync"]) == ("ctl@ebs", None)
    assert one_line_error(aos(url, "storage", "show", "ctl@nowhere#x")).endswith(
        "no storage pool 'ctl@nowhere#x' (storage_sync has not seen it)")


def test_node_agent_report_and_an_agent_that_does_not_answer(server):
    from cloud_manager import agent_protocol
    from cloud_manager.agent_client import AgentClient
    from cloud_manager.agent_endpoint import AgentEndpoint, rpc_server

    url, runtime = server
    add_node(runtime, "compute-1")
    add_node(runtime, "compute-2")
    transport = agent_protocol.transport("fake://")
    runtime.__dict__["agents"] = AgentClient(transport, 0.2, 5, 0.05, 2)
    agent = rpc_server(transport, AgentEndpoint("compute-1", lambda: {"vm-1": "running"},
                                                "true", "true", 5))
    agent.start()
    try:
        report = aos(url, "node", "agent", "compute-1", "report", "-f", "json")
        assert report.code == 0, report.err
        assert (report.json()["Host"], report.json()["Instances"]) == (
            "compute-1", {"vm-1": "running"})
        assert one_line_error(aos(url, "node", "agent", "compute-2", "report")) == (
            "504: node agent of compute-2: report_instances: no confirmation within 0.2s, 2 "
            "attempt(s) ([agent] agent_confirm_timeout, connect_attempts): is "
            "aos-cloud-manager-agent running there with [agent] enabled?")
    finally:
        agent.stop()
        agent.wait()


COMMANDS = [
    "node list", "node show", "node evacuate", "node maintenance", "node reserve",
    "power-device create", "power-device list", "power-device show", "power-device delete",
    "power-device on", "power-device off", "power-device status", "task list", "task show",
    "event list", "storage list", "storage show", "node agent",
]


def test_every_command_is_listed_by_openstack_help():
    """Through the installed console script itself, as an operator runs it."""
    result = openstack("help", "aos", in_process=False)
    assert result.code == 0, result.err
    listed = {line.strip().removeprefix("aos ") for line in result.out.splitlines()}
    assert set(COMMANDS) <= listed


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_explains_itself(name):
    entry_point_name = "aos_" + name.replace(" ", "_")
    (entry_point,) = [ep for ep in entry_points(group="openstack.aos.v1")
                      if ep.name == entry_point_name]
    description = entry_point.load().__doc__ or ""
    assert len(description.split()) >= 6, f"{name}: {description!r}"
