"""The inventory on the sandbox: Nova's real notifications through RabbitMQ keep
``node show`` current between two syncs; with the listener stopped, the next sync repairs
what it missed and says so.

One CloudManager deployment (API, listener, beat with node_sync every 600 s: within the test
only the start-up sync runs, so what ``node show`` shows after it came from the listener).
"""

from __future__ import annotations

import json
import urllib.request
import uuid
from itertools import pairwise

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
    try:
        wait_for("the start-up sync", lambda: _syncs(cm) >= 1, 120)
    except TimeoutError as exc:
        raise AssertionError(f"{exc}; the beat said:\n{cm.output('beat')[-4000:]}") from None
    assert _node(source)["inventory"]["hypervisor_hostname"] == source
    # A node named otherwise than its service host (an FQDN, as libvirt reports it): its
    # capacity is Placement's provider of that name, found through Nova's hypervisors.
    renamed = next(h for h in hosts if sandbox.info["hosts"][h]["node"] != h)
    shown = _node(renamed)["inventory"]
    assert shown["hypervisor_hostname"] == sandbox.info["hosts"][renamed]["node"]
    assert shown["resources"]["MEMORY_MB"]["total"] > 0, shown

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


def _sync_times(cm: CloudManager) -> list:
    """When each sync read Nova (one leader starts one every sync_interval)."""
    with cm.runtime.transaction() as session:
        return sorted(r.started_at for r in session.query(db_api.InventorySync))


def test_two_controllers_sync_and_fill_the_reserve_pool_once(sandbox, hosts, tmp_path):  # noqa: F811
    """Two beats on one MariaDB database and tooz's MySQL driver: only the lock holder syncs
    and moves free hosts to the reserve pool (one of the sandbox's empty hosts stays in
    service); when it dies, the other goes on."""
    mysql = sandbox.info["mysql"]
    auth = f"{mysql['user']}:{mysql['password']}@{mysql['host']}:{mysql['port']}"
    database = f"cm_{uuid.uuid4().hex[:12]}"
    cm = CloudManager(sandbox, tmp_path, database=database,
                      coordination={"backend_url": f"mysql://{auth}/{database}"},
                      node_tracker={"max_down_hosts": 0},
                      node_sync={"sync_interval": 2, "auto_reserve": "true",
                                 "reserve_interval": 2})
    try:
        cm.start("beat", "beat-a")
        cm.start("beat", "beat-b")
        wait_for("syncs", lambda: len(_sync_times(cm)) >= 6, 60)
        leaders = [n for n in ("beat-a", "beat-b") if "node_sync:" in cm.output(n)]
        assert len(leaders) == 1, leaders
        times = _sync_times(cm)
        assert min((b - a).total_seconds() for a, b in pairwise(times)) > 1.5, times
        moved = [e.hostname for e in cm.events(kind="action")
                 if e.message.startswith("reserve on by node_sync")]
        assert sorted(moved) == sorted(set(moved)) and len(moved) == len(hosts) - 1
        in_service = [n.hostname for n in cm.nodes() if not n.reserve]
        assert len(in_service) == 1
        assert sandbox.compute_service(moved[0]).status == "disabled"

        old = leaders[0]
        new = "beat-b" if old == "beat-a" else "beat-a"
        cm.kill(old)
        before = len(_sync_times(cm))
        wait_for("the other controller to sync", lambda: "node_sync:" in cm.output(new), 60)
        wait_for("syncs going on", lambda: len(_sync_times(cm)) >= before + 2, 30)
    finally:
        cm.drop()
