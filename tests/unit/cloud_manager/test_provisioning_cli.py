"""``openstack aos node add`` through the real ``openstack`` command and a served API."""

from __future__ import annotations

import threading
import time

from cloud_manager.db import api as db_api
from cloud_manager.db.models import Task
from tests.unit.cloud_manager.test_cli import aos, app, one_line_error, server  # noqa: F401

MAC = "52:54:00:ab:cd:ef"


def test_node_add_creates_the_device_and_waits_for_the_task_showing_its_step(
        server):  # noqa: F811
    url, runtime = server
    queued: list[str] = []
    runtime.dispatch_task = queued.append

    def provision_later() -> None:
        deadline = time.monotonic() + 60
        while not queued and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)
        with runtime.transaction() as session:
            task = session.get(Task, queued[0])
            db_api.move_task(session, task, "provisioning",
                             "waiting for a DHCP lease of 52:54:00:ab:cd:ef")
        time.sleep(1.0)
        with runtime.transaction() as session:
            db_api.end_task(session, session.get(Task, queued[0]), "done", "node in service")

    worker = threading.Thread(target=provision_later)
    worker.start()
    result = aos(url, "node", "add", "n1", "--mac", MAC, "--driver", "ipmi", "--address",
                 "10.0.0.7", "--username", "admin", "--password", "bmc-pass", "--wait",
                 "--poll-interval", "0.2", "--timeout", "60", "-f", "json")
    worker.join()
    assert result.code == 0, result.err
    task = result.json()
    assert (task["Kind"], task["State"], task["Message"]) == ("provisioning", "done",
                                                             "node in service")
    assert "n1 done: node in service" in result.err  # the bar names the task's last step
    assert "bmc-pass" not in result.out + result.err
    shown = aos(url, "power-device", "show", "n1-power", "-f", "json").json()
    assert (shown["Hostname"], shown["Driver"]) == ("n1", "ipmi")


def test_node_add_errors_are_one_line(server):  # noqa: F811
    url, runtime = server
    runtime.dispatch_task = lambda _id: None
    assert one_line_error(aos(url, "node", "add", "n1", "--mac", MAC)) == (
        "name the node's power device (--power-device) or describe a new one (--driver and "
        "--address)")
    assert one_line_error(aos(url, "node", "add", "n1", "--mac", MAC, "--driver", "ipmi")) == (
        "a new power device needs both --driver and --address")
    assert one_line_error(aos(url, "node", "add", "n1", "--mac", MAC,
                              "--power-device", "nope")) == "404: no power device 'nope'"
    added = aos(url, "node", "add", "n1", "--mac", MAC, "--driver", "ipmi", "--address", "h")
    assert added.code == 0, added.err
    assert one_line_error(aos(url, "node", "add", "n2", "--mac", MAC, "--driver", "ipmi",
                              "--address", "h2")) == (
        f"409: MAC {MAC} is already registered for node 'n1'")
