"""DRS end to end: a real Watcher (API and decision engine in the sandbox) runs an audit, AOS's
beat takes the recommended action plan and its worker live-migrates through real Nova;
the ``openstack aos drs`` CLI against the real API."""

from __future__ import annotations

import uuid

import pytest

from tests.functional.test_balancing import API_PORT, _cli, _json
from tests.functional.test_instance_ha import cm, hosts  # noqa: F401 - fixtures
from tools.aos_sandbox.aos_services import wait_for
from tools.aos_sandbox.client import force_delete_servers

pytestmark = pytest.mark.functional


@pytest.fixture
def watcher(sandbox):
    """A Watcher client as the sandbox's admin, once the decision engine synced strategies."""
    from watcherclient import client

    if "url" not in sandbox.info.get("watcher", {}):
        pytest.fail(f"Watcher is not running in the sandbox: {sandbox.info.get('watcher')}")
    found = client.Client("1", session=sandbox.conn("admin").session,
                          endpoint=sandbox.info["watcher"]["url"])
    wait_for("Watcher's actuator strategy", lambda: any(
        s.name == "actuator" for s in found.strategy.list()), 60)
    return found


@pytest.fixture
def boot(sandbox):
    conn, made = sandbox.conn("admin"), []

    def server(host: str):
        found = conn.compute.create_server(
            name=f"drs-{uuid.uuid4().hex[:6]}", flavor_id=conn.compute.find_flavor("m1.tiny").id,
            image_id=conn.image.find_image("cirros").id,
            networks=[{"uuid": conn.network.find_network("private").id}],
            availability_zone=f"nova:{host}")
        made.append(found)
        return sandbox.wait_active(found)

    yield server
    force_delete_servers(conn, made)


@pytest.mark.cm_config(api={"port": API_PORT}, host_tasks={"poll_interval": 1},
                       drs_trigger={"enabled": True, "trigger_interval": 2})
def test_the_trigger_applies_a_recommended_plan_live_once_and_refuses_the_rest(
        sandbox, hosts, cm, watcher, boot):  # noqa: F811 - fixtures imported above
    conn = sandbox.conn("admin")
    h0, h1, h2 = hosts[:3]
    for service in ("api", "worker"):  # they start while servers boot and Watcher audits
        cm.start(service)
    live, cold = boot(h0), boot(h0)
    audit = watcher.audit.create(
        audit_type="ONESHOT", goal="unclassified", strategy="actuator",
        name=f"drs-{uuid.uuid4().hex[:6]}",
        parameters={"actions": [
            {"action_type": "migrate", "resource_id": live.id, "input_parameters": {
                "migration_type": "live", "source_node": h0, "destination_node": h1}},
            {"action_type": "migrate", "resource_id": cold.id, "input_parameters": {
                "migration_type": "cold", "source_node": h0, "destination_node": h2}},
        ]})
    wait_for("the audit to succeed", lambda: watcher.audit.get(audit.uuid).state
             in ("SUCCEEDED", "FAILED"), 60)
    assert watcher.audit.get(audit.uuid).state == "SUCCEEDED"
    plan = watcher.action_plan.list(audit=audit.uuid)[0]
    assert plan.state == "RECOMMENDED"

    wait_for("the API", lambda: _cli("task", "list").returncode == 0, 30)
    shown = {p["Uuid"]: p for p in _json("drs", "plans")}[plan.uuid]
    assert shown["Applicable"] is True and shown["Task"] is None
    assert shown["Migrations"] == [{"instance": live.id, "instance_name": live.name,
                                    "source": h0, "target": h1}]
    assert [line for line in shown["Refused"] if "cold migration refused" in line], shown

    cm.start("beat")  # the trigger takes the plan
    task = cm.wait_task_final(f"drs:{plan.uuid}", timeout=90)
    assert task.state == "done", task.message
    states = {i.instance_id: i.state for i in task.items}
    assert states == {live.id: "done", cold.id: "skipped"}
    moved = conn.compute.get_server(live.id)
    assert (moved.compute_host, moved.status) == (h1, "ACTIVE")
    assert conn.compute.get_server(cold.id).compute_host == h0
    assert [m.status for m in conn.compute.migrations(
        instance_uuid=live.id, migration_type="live-migration")] == ["completed"]
    assert watcher.action_plan.get(plan.uuid).state == "CANCELLED"

    again = _cli("drs", "apply", plan.uuid)
    assert again.returncode == 1
    assert again.stderr.strip().splitlines() == [
        f"409: action plan {plan.uuid} was taken by task {task.id} (done): never applied "
        "twice"], again.stderr
    missing = _cli("drs", "apply", str(uuid.uuid4()))
    assert missing.returncode == 1 and missing.stderr.startswith("404: no Watcher action plan")
    assert len(cm.tasks(f"drs:{plan.uuid}")) == 1


@pytest.mark.cm_config(api={"port": API_PORT}, host_tasks={"poll_interval": 1})
def test_a_host_maintenance_audit_has_its_servers_moved_live_by_drs_apply(
        sandbox, hosts, cm, watcher, boot):  # noqa: F811 - fixtures imported above
    """Watcher's host_maintenance strategy (goal cluster_maintaining, no metrics needed), as an
    operator runs it before working on a host: its plan disables the host in Nova and migrates
    the host's servers to the backup node. ``drs apply --wait`` runs the live migrations; the
    service state is left to the operator (a warning, nothing sent)."""
    conn = sandbox.conn("admin")
    source, backup = hosts[0], hosts[1]
    wait_for("Watcher's host_maintenance strategy", lambda: any(
        s.name == "host_maintenance" for s in watcher.strategy.list()), 60)
    cm.start("api")
    cm.start("worker")
    servers = [boot(source), boot(source)]
    audit = watcher.audit.create(
        audit_type="ONESHOT", goal="cluster_maintaining", strategy="host_maintenance",
        name=f"drs-{uuid.uuid4().hex[:6]}",
        parameters={"maintenance_node": source, "backup_node": backup})
    wait_for("the audit to end", lambda: watcher.audit.get(audit.uuid).state
             in ("SUCCEEDED", "FAILED"), 90)
    assert watcher.audit.get(audit.uuid).state == "SUCCEEDED"
    plan = watcher.action_plan.list(audit=audit.uuid)[0]

    wait_for("the API", lambda: _cli("task", "list").returncode == 0, 30)
    shown = {p["Uuid"]: p for p in _json("drs", "plans")}[plan.uuid]
    assert sorted(m["instance"] for m in shown["Migrations"]) == sorted(s.id for s in servers)
    assert all((m["source"], m["target"]) == (source, backup) for m in shown["Migrations"])
    applied = _json("drs", "apply", plan.uuid, "--wait")
    task = cm.wait_task_final(f"drs:{plan.uuid}", timeout=120)
    assert task.state == "done", (task.message, applied)
    for server in servers:
        moved = conn.compute.get_server(server.id)
        assert (moved.compute_host, moved.status) == (backup, "ACTIVE")
    warnings = [e.message for e in cm.events(f"drs:{plan.uuid}", "warning")]
    assert any("change_nova_service_state" in w for w in warnings), warnings
    assert sandbox.compute_service(source).status == "enabled"
