"""Balancing end to end: real Nova and Placement (sandbox), real CloudManager API, beat and
worker, driven through the ``openstack aos`` CLI; servers move by real live migrations."""

from __future__ import annotations

import json
import subprocess
import uuid

import pytest

from tests.functional.test_instance_ha import cm, hosts  # noqa: F401 - fixtures
from tools.aos_sandbox.aos_services import BIN, wait_for
from tools.aos_sandbox.client import force_delete_servers

pytestmark = pytest.mark.functional

API_PORT = 19363
URL = f"http://127.0.0.1:{API_PORT}"


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "openstack"), "--os-auth-type", "none",
                           "--os-cloud-manager-url", URL, "aos", *args],
                          capture_output=True, text=True, timeout=300)


def _json(*args: str) -> dict:
    done = _cli(*args, "-f", "json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _start(deployment, members: tuple[str, ...]) -> None:
    """API, beat and worker, once every member is a node that is up and the API answers."""
    for service in ("api", "beat", "worker"):
        deployment.start(service)
    wait_for("nodes discovered", lambda: all(deployment.node_states().get(h) == "up"
                                             for h in members), 60)
    wait_for("the API", lambda: _cli("task", "list").returncode == 0, 30)


@pytest.fixture
def cloud(sandbox, hosts):  # noqa: F811 - the fixture imported above
    """Aggregates, a server group and servers, all removed afterwards."""
    conn = sandbox.conn("admin")
    made = {"aggregates": [], "servers": [], "groups": []}

    def aggregate(name: str, members: list[str], metadata: dict | None = None):
        agg = conn.compute.create_aggregate(name=name)
        made["aggregates"].append(agg)
        for host in members:
            conn.compute.add_host_to_aggregate(agg, host)
        if metadata:
            conn.compute.set_aggregate_metadata(agg, metadata)
        return agg

    def group(policy: str):
        found = conn.compute.create_server_group(name=f"bal-{uuid.uuid4().hex[:6]}",
                                                 policy=policy)
        made["groups"].append(found)
        return found

    def boot(host: str, flavor: str, group_id: str | None = None):
        net = conn.network.find_network("private")
        hints = {"scheduler_hints": {"group": group_id}} if group_id else {}
        server = conn.compute.create_server(
            name=f"bal-{flavor}-{uuid.uuid4().hex[:4]}",
            flavor_id=conn.compute.find_flavor(flavor).id,
            image_id=conn.image.find_image("cirros").id, networks=[{"uuid": net.id}],
            availability_zone=f"nova:{host}", **hints)
        made["servers"].append(server)
        return sandbox.wait_active(server)

    yield aggregate, group, boot
    force_delete_servers(conn, made["servers"])
    for found in made["groups"]:
        conn.compute.delete_server_group(found, ignore_missing=True)
    for agg in made["aggregates"]:
        agg = conn.compute.get_aggregate(agg)
        for host in agg.hosts or ():
            conn.compute.remove_host_from_aggregate(agg, host)
        conn.compute.delete_aggregate(agg)


@pytest.mark.cm_config(api={"port": API_PORT}, host_tasks={"poll_interval": 1})
def test_a_flagged_aggregate_is_balanced_live_and_an_unflagged_one_left_alone(
        sandbox, hosts, cm, cloud):  # noqa: F811 - fixtures imported above
    aggregate, group, boot = cloud
    conn = sandbox.conn("admin")
    h0, h1, h2, h3 = hosts[:4]
    suffix = uuid.uuid4().hex[:6]
    flagged, calm = f"bal-{suffix}", f"calm-{suffix}"
    aggregate(flagged, [h0, h1, h2, h3])
    aggregate(calm, [h0, h1, h2, h3])
    apart = group("anti-affinity")
    a = boot(h0, "m1.medium", apart.id)  # anti-affinity with b on h1: never to h1
    b = boot(h1, "m1.tiny", apart.id)
    stopped = boot(h0, "m1.medium")
    conn.compute.stop_server(stopped)
    conn.compute.wait_for_server(stopped, status="SHUTOFF", wait=60)
    boot(h0, "m1.medium")
    boot(h0, "m1.small")
    boot(h2, "m1.small")
    boot(h3, "m1.small")

    _start(cm, (h0, h1, h2, h3))

    # The flag through the CLI; bad input is one clear line and a non-zero exit.
    assert _json("aggregate", "set-balancing", flagged, "yes")["Balancing"] is True
    unknown = _cli("balancing", "plan", f"nope-{suffix}")
    assert unknown.returncode == 1
    assert unknown.stderr.strip().splitlines() == [
        f"404: no host aggregate 'nope-{suffix}' (known: {flagged}, {calm})"], unknown.stderr
    refused = _cli("balancing", "run", calm)
    assert refused.returncode == 1
    assert f"aggregate '{calm}' is not flagged for balancing" in refused.stderr
    left_alone = _json("balancing", "plan", calm)
    assert left_alone["Migrations"] == [] and left_alone["Flagged"] is False

    # The dry run shows the spec's rule at work.
    plan = _json("balancing", "plan", flagged)
    limit = plan["Mean load"] + plan["Approx"]
    loads = {h["host"]: h for h in plan["Hosts"]}
    for h in loads.values():  # loaded: above the aggregate's load + approx (rounded figures)
        assert h["load_before"] > limit - 1e-3 if h["loaded_before"] else \
            h["load_before"] <= limit + 1e-3
        assert not h["loaded_after"]
    assert loads[h0]["loaded_before"]
    moves = plan["Migrations"]
    assert moves and all(m["source"] == h0 for m in moves)
    assert stopped.id not in {m["instance_id"] for m in moves}
    assert any(n["instance_id"] == stopped.id and n["reason"].startswith("status SHUTOFF")
               for n in plan["Not moved"])
    assert all(m["target"] != h1 for m in moves if m["instance_id"] == a.id)

    # Offline, from the exported snapshot, the same plan.
    exported = _cli("balancing", "export", flagged)
    assert exported.returncode == 0, exported.stderr
    snapshot = cm.root / "snapshot.json"
    snapshot.write_text(exported.stdout)
    offline = _json("balancing", "plan", "--inventory", str(snapshot))
    assert offline["Migrations"] == moves

    # The run: live migrations, one at a time, through the worker.
    task = _json("balancing", "run", flagged, "--wait")  # -f json: keys are the titles
    assert task["State"] == "done", task
    assert task["Kind"] == "balancing"
    states = {i["instance_id"]: i["state"] for i in task["Items"]}
    assert {states[m["instance_id"]] for m in moves} == {"done"}
    assert states[stopped.id] == "skipped"  # recorded with its reason, never sent
    for move in moves:
        server = conn.compute.get_server(move["instance_id"])
        assert (server.compute_host, server.status) == (move["target"], "ACTIVE")
        records = list(conn.compute.migrations(instance_uuid=move["instance_id"],
                                               migration_type="live-migration"))
        assert [r.status for r in records] == ["completed"]

    # Within approx afterwards, the group kept apart, the unflagged aggregate untouched.
    after = _json("balancing", "plan", flagged)
    assert after["Migrations"] == []
    assert not any(h["loaded_before"] for h in after["Hosts"]), after["Hosts"]
    assert conn.compute.get_server(a.id).compute_host != conn.compute.get_server(b.id).compute_host
    assert cm.tasks(f"aggregate:{calm}") == []


def _requested_item(deployment, aggregate: str):
    """The balancing run's item whose live migration was sent and is not over (None: none)."""
    tasks = deployment.tasks(f"aggregate:{aggregate}")
    return next((i for i in tasks[0].items if i.state == "requested"), None) if tasks else None


@pytest.mark.cm_config(api={"port": API_PORT}, host_tasks={"poll_interval": 1},
                       node_tracker={"max_down_hosts": 1})
def test_a_host_failing_during_a_run_stops_it_and_ha_evacuates_the_host(
        sandbox, hosts, cm, cloud):  # noqa: F811 - fixtures imported above
    """HA wins: the migration in flight ends, the next one (to the failed host) is never sent,
    the run ends aborted, and the failed host is fenced and evacuated as usual."""
    aggregate, _, boot = cloud
    conn = sandbox.conn("admin")
    h0, h1, h2, h3 = hosts[:4]
    name = f"bal-{uuid.uuid4().hex[:6]}"
    aggregate(name, [h0, h1, h2, h3], {"balancing": "yes"})
    for _ in range(3):  # h0 at 0.75 of its RAM, the others near 0: two moves, two targets
        boot(h0, "m1.medium")
    residents = {host: boot(host, "m1.tiny") for host in (h1, h2, h3)}
    for host in (h1, h2, h3):
        cm.add_bmc(host, "ipmi")
    _start(cm, (h0, h1, h2, h3))
    moves = _json("balancing", "plan", name)["Migrations"]
    assert len({m["target"] for m in moves}) >= 2, moves

    sandbox.hold_live_migrations(h0, True)  # the first migration stays in flight
    try:
        _json("balancing", "run", name)
        first = wait_for("the first live migration sent", lambda: _requested_item(cm, name), 60)
        victim = next(m["target"] for m in moves if m["target"] != first.target_host)
        sandbox.kill_host(victim)
        wait_for(f"HA to take {victim}", lambda: cm.node_states().get(victim)
                 in ("fenced", "evacuating", "evacuated"), 90)
    finally:
        sandbox.hold_live_migrations(h0, False)

    run = cm.wait_task_final(f"aggregate:{name}", timeout=120)
    assert run.state == "aborted", (run.state, run.message)
    assert victim in run.message, run.message
    items = {i.instance_id: i for i in run.items}
    assert items[first.instance_id].state == "done"
    to_victim = [i for i in run.items if i.target_host == victim]
    assert to_victim and all(i.state == "pending" and i.message.startswith("not sent")
                             for i in to_victim[:1]), [(i.state, i.message) for i in to_victim]
    live = [m for m in conn.compute.migrations(migration_type="live-migration")
            if m.server_id in items]
    assert victim not in {m.dest_compute for m in live}, [(m.dest_compute, m.status)
                                                          for m in live]

    evacuation = cm.wait_task_final(victim, timeout=180)
    assert evacuation.state == "done", evacuation.message
    resident = conn.compute.get_server(residents[victim].id)
    assert (resident.status, resident.compute_host != victim) == ("ACTIVE", True)
