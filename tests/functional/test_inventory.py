"""The inventory on the sandbox: Nova's real notifications through RabbitMQ keep
``node show`` current between two syncs; with the listener stopped, the next sync repairs
what it missed and says so.

One CloudManager deployment (API, listener, beat with node_sync every 600 s: within the test
only the start-up sync runs, so what ``node show`` shows after it came from the listener).
"""

from __future__ import annotations

import json
import urllib.request

import pytest

from cloud_manager import node_sync
from cloud_manager.db import api as db_api
from tests.functional.test_instance_ha import hosts, servers  # noqa: F401
from tools.aos_sandbox.aos_services import CloudManager, answers, wait_for

pytestmark = pytest.mark.functional

API = "http://127.0.0.1:9362"


@pytest.fixture
def cm(sandbox, tmp_path):
    deployment = CloudManager(sandbox, tmp_path,
                              DEFAULT={"transport_url": sandbox.info["transport_url"]},
                              node_sync={"sync_interval": 600})
    yield deployment
    deployment.drop()


def _node(host: str) -> dict:
    with urllib.request.urlopen(f"{API}/v1/nodes/{host}", timeout=10) as response:
        return json.load(response)


def _instances_on(host: str) -> set[str]:
    inventory = _node(host)["inventory"]
    return {i["id"] for i in inventory["instances"]} if inventory else set()


def _syncs(cm: CloudManager) -> int:
    with cm.runtime.transaction() as session:
        return db_api.sync_count(session)


def test_node_show_follows_nova_through_the_listener_and_a_sync_repairs_its_gaps(
        sandbox, hosts, cm, servers):  # noqa: F811
    source, target = hosts[0], hosts[1]
    cm.start("api")
    cm.start("listener")
    cm.start("beat")
    wait_for("the API", lambda: answers(f"{API}/"), 60)
    wait_for("the listener on the bus",
             lambda: "listening to Nova notifications" in cm.output("listener"), 60)
    wait_for("the start-up sync", lambda: _syncs(cm) >= 1, 90)
    assert _node(source)["inventory"]["hypervisor_hostname"]

    # Through the listener only (the next sync is 600 s away): boot, live migration, delete.
    server = servers(source, [None])[0]
    wait_for("the boot in node show", lambda: server.id in _instances_on(source), 30)
    shown = next(i for i in _node(source)["inventory"]["instances"] if i["id"] == server.id)
    assert shown["state"] == "active" and shown["ram_mb"] > 0
    cm.runtime.nova.live_migrate(server.id, target)
    wait_for("the live migration in node show",
             lambda: server.id in _instances_on(target) and server.id not in _instances_on(
                 source), 60)
    conn = sandbox.conn("admin")
    conn.compute.delete_server(server.id, force=True)
    wait_for("the deletion in node show", lambda: server.id not in _instances_on(target), 60)
    assert _syncs(cm) == 1, "a sync ran: the test no longer shows the listener's work"

    # The listener stops; Nova changes; the sync repairs it and records what it repaired.
    cm.kill("listener")
    missed = servers(source, [None])[0]
    assert missed.id not in _instances_on(source)
    result = node_sync.NodeSync(cm.runtime).sync()
    assert ("added", missed.id) in {(r.kind, r.what) for r in result.repairs}
    assert missed.id in _instances_on(source)
    assert any(missed.id in e.message for e in cm.events(source, kind="sync"))
