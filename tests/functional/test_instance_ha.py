"""Instance HA end to end: real Nova (sandbox), real BMCs (IPMI/Redfish), real CloudManager
services. A killed nova-compute process is a failed hypervisor."""

from __future__ import annotations

import subprocess
import time
import uuid

import pytest

from cloud_manager.power import driver_for
from tools.aos_sandbox.aos_services import BIN, CloudManager, reporting, restore_host, wait_for
from tools.aos_sandbox.client import force_delete_servers

pytestmark = pytest.mark.functional

KEY = "aos:recovery_priority"


@pytest.fixture
def hosts(sandbox) -> list[str]:
    """The sandbox computes; every one is powered on, running and enabled again afterwards.

    Requested before ``cm`` so that CloudManager is stopped before hosts come back: a tracker
    still running would see the restore as a failure of the hosts restarted last.
    """
    names = sorted(sandbox.info["hosts"], key=lambda h: (len(h), h))
    assert len(names) >= 3, "these tests need at least 3 sandbox computes"
    yield names
    for host in names:
        restore_host(sandbox, host)


@pytest.fixture
def cm(sandbox, tmp_path, request):
    marker = request.node.get_closest_marker("cm_config")
    deployment = CloudManager(sandbox, tmp_path, **(marker.kwargs if marker else {}))
    yield deployment
    deployment.drop()


@pytest.fixture
def servers(sandbox, hosts, cm):
    """Boot servers on a given host; everything booted is deleted and every host restored."""
    conn = sandbox.conn("admin")
    booted: list = []
    net = conn.network.find_network("private")
    flavor = conn.compute.find_flavor("m1.tiny")
    image = conn.image.find_image("cirros")

    def boot(host: str, priorities: list[int | None], flavor_id: str | None = None) -> list:
        batch = []
        for priority in priorities:
            metadata = {} if priority is None else {KEY: str(priority)}
            batch.append(conn.compute.create_server(
                name=f"ha-{uuid.uuid4().hex[:6]}", flavor_id=flavor_id or flavor.id,
                image_id=image.id, networks=[{"uuid": net.id}], metadata=metadata,
                availability_zone=f"nova:{host}"))
        booted.extend(batch)
        return [sandbox.wait_active(s) for s in batch]

    yield boot
    force_delete_servers(conn, booted)


def _host_of(sandbox, server_id: str) -> tuple[str, str]:
    server = sandbox.conn("admin").compute.get_server(server_id)
    return server.compute_host, server.status


def _evacuations(sandbox, server_id: str) -> list:
    conn = sandbox.conn("admin")
    return [m for m in conn.compute.migrations(instance_uuid=server_id,
                                                migration_type="evacuation")]


@pytest.mark.cm_config(node_tracker={"max_down_hosts": 1})
def test_killed_host_is_fenced_and_evacuated_by_priority_then_recovers(
        sandbox, hosts, cm, servers):
    victim = hosts[1]
    conn = sandbox.conn("admin")
    flavor = conn.compute.create_flavor(name=f"prio7-{uuid.uuid4().hex[:6]}", ram=128,
                                        vcpus=1, disk=1)
    conn.compute.create_flavor_extra_specs(flavor, {KEY: "7"})
    try:
        by_priority = dict(zip([10, 5, 3, 0], servers(victim, [10, None, 3, 0]), strict=True))
        by_priority[7] = servers(victim, [None], flavor_id=flavor.id)[0]
    finally:
        conn.compute.delete_flavor(flavor)
    cm.add_bmc(victim, "ipmi")
    cm.start("beat")
    cm.start("worker")
    wait_for("nodes discovered", lambda: victim in cm.node_states(), 60)
    wait_for("the worker holds a token before any failure",
             lambda: "authenticated to OpenStack; token valid until" in cm.output("worker"), 60)

    sandbox.kill_host(victim)
    task = cm.wait_task_final(victim, timeout=180)
    assert task.state == "done", task.message

    for priority, server in by_priority.items():
        host, status = _host_of(sandbox, server.id)
        if priority == 0:
            assert host == victim, "a priority-0 instance must never be evacuated"
            assert _evacuations(sandbox, server.id) == []
        else:
            assert host != victim and status == "ACTIVE", (priority, host, status)
            assert len(_evacuations(sandbox, server.id)) == 1
    items = {i.instance_id: i for i in task.items}
    assert items[by_priority[0].id].state == "skipped"
    assert items[by_priority[7].id].priority == 7
    started = {p: min(m.created_at for m in _evacuations(sandbox, s.id))
               for p, s in by_priority.items() if p}
    order = [p for p, _ in sorted(started.items(), key=lambda kv: (kv[1], -kv[0]))]
    assert order == sorted(order, reverse=True), f"evacuated out of priority order: {started}"

    states = [(e.from_state, e.to_state) for e in reversed(cm.events(victim, "transition"))]
    assert states[:4] == [("up", "suspect"), ("suspect", "down"), ("down", "fenced"),
                          ("fenced", "evacuating")]
    fenced = next(e for e in cm.events(victim, "transition") if e.to_state == "fenced")
    assert f"power device {victim}-bmc" in fenced.message
    service = sandbox.compute_service(victim)
    assert service.is_forced_down and service.status == "disabled"
    assert service.disabled_reason.startswith("aos: fenced by task "), service.disabled_reason

    bmc = sandbox.info["bmc"][victim]["ipmi"]
    with driver_for("ipmi", name=victim, address=bmc["address"], port=bmc["port"],
                    username=bmc["username"], password=bmc["password"], options=None) as driver:
        assert driver.power_state() == "off"
        driver.power_on()
    cm.wait_node(victim, "up", timeout=120)
    service = sandbox.compute_service(victim)
    assert not service.is_forced_down and service.status == "enabled"
    assert _host_of(sandbox, by_priority[0].id)[0] == victim


@pytest.mark.cm_config(node_tracker={"max_down_hosts": 1},
                       host_tasks={"retries_wait_for_node_state": 8})
def test_bmc_stuck_powering_off_is_not_proof_of_death(sandbox, hosts, cm, servers):
    """The BMC takes the ForceOff but keeps answering PoweringOff: nothing is evacuated, the
    fencing fails and an alert says why."""
    victim = hosts[1]
    placed = servers(victim, [5])
    cm.add_bmc(victim, "redfish")
    cm.start("beat")
    cm.start("worker")
    wait_for("nodes discovered", lambda: victim in cm.node_states(), 60)
    sandbox.bmc_report(victim, "powering-off")
    try:
        sandbox.kill_host(victim)
        task = cm.wait_task_final(victim, timeout=120)
        why = "power unknown (power device {}-bmc: Redfish PowerState is 'PoweringOff')"
        assert task.state == "failed" and why.format(victim) in task.message, task.message
        assert any(why.format(victim) in e.message for e in cm.events(victim, "alert"))
        cm.stop_all()
        assert all(t.state != "done" for t in cm.tasks(victim))
    finally:
        sandbox.bmc_report(victim, None)
    assert _evacuations(sandbox, placed[0].id) == []
    assert not sandbox.compute_service(victim).is_forced_down


@pytest.mark.cm_config(node_tracker={"max_down_hosts": 1})
def test_two_hosts_down_over_max_down_hosts_evacuates_nothing(sandbox, hosts, cm, servers):
    first, second = hosts[1], hosts[2]
    placed = servers(first, [5]) + servers(second, [5])
    for host in (first, second):
        cm.add_bmc(host, "redfish")
    # Both die while the tracker is not looking (their detection would otherwise be staggered
    # by their report phases, and the first one found could legitimately be evacuated alone).
    sandbox.kill_host(first)
    sandbox.kill_host(second)
    wait_for("both to be overdue", lambda: not reporting(sandbox, first)
             and not reporting(sandbox, second), 60)
    time.sleep(cm.conf().node_tracker.service_timeout)
    cm.start("beat")
    cm.start("worker")
    cm.wait_node(first, "down", 60)
    cm.wait_node(second, "down", 60)
    time.sleep(5)
    assert cm.tasks(first) == [] and cm.tasks(second) == []
    alerts = [e.message for e in cm.events(kind="alert")]
    assert any("max_down_hosts=1" in a and "suspended" in a for a in alerts), alerts
    for server in placed:
        assert _evacuations(sandbox, server.id) == []


@pytest.mark.cm_config(agent={"enabled": "true"}, node_tracker={"max_down_hosts": 2})
def test_host_with_power_on_and_live_agent_is_not_evacuated_and_its_compute_restarted(
        sandbox, hosts, cm, servers):
    victim = hosts[1]
    placed = servers(victim, [5])
    cm.add_bmc(victim, "ipmi")
    cm.start_agent(victim)
    cm.start("beat")
    cm.start("worker")
    wait_for("the agent's first report",
             lambda: (cm.root / "shared" / f"{victim}.json").exists(), 30)
    wait_for("nodes discovered", lambda: victim in cm.node_states(), 60)
    sandbox.kill_host(victim)
    wait_for("nova-compute to be overdue", lambda: not reporting(sandbox, victim), 60)
    time.sleep(cm.conf().node_tracker.service_timeout + 6)
    assert cm.node_states()[victim] == "up"
    assert cm.tasks(victim) == []
    assert _evacuations(sandbox, placed[0].id) == []
    assert cm.processes["beat"].poll() is None

    # Recovery through the agent: the tracker asked it to restart the silent nova-compute.
    def restarted():
        return [e.message for e in cm.events(victim, "action")
                if "nova-compute restarted by the node agent" in e.message]

    [restart] = wait_for("the agent's restart of nova-compute", restarted, 90)
    assert restart.startswith("nova-compute is down while the node agent is alive"), restart
    assert not [e.message for e in cm.events(victim, "warning") if "node agent" in e.message]
    wait_for(f"{victim} to report again", lambda: reporting(sandbox, victim), 30)
    assert cm.node_states()[victim] == "up" and cm.tasks(victim) == []


@pytest.mark.cm_config(node_tracker={"max_down_hosts": 1},
                       host_tasks={"poll_interval": 6, "task_lease_time": 6,
                                   "prioritized_evacuation_timeout": 60})
def test_worker_killed_mid_evacuation_resumes_without_double_evacuation(
        sandbox, hosts, cm, servers):
    victim = hosts[1]
    placed = servers(victim, [9, 9, 2, 2])
    cm.add_bmc(victim, "ipmi")
    cm.start("beat")
    cm.start("worker")
    wait_for("nodes discovered", lambda: victim in cm.node_states(), 60)
    sandbox.kill_host(victim)

    def some_requested():
        tasks = cm.tasks(victim)
        return tasks and any(i.state == "requested" for i in tasks[0].items)

    wait_for("the first evacuation requests", some_requested, 120, 0.2)
    cm.kill("worker")
    before = {i.instance_id: i.state for i in cm.tasks(victim)[0].items}
    assert "pending" in before.values(), f"killed too late to prove anything: {before}"
    cm.start("worker", "worker-2")
    task = cm.wait_task_final(victim, timeout=180)
    assert task.state == "done", task.message
    for server in placed:
        host, status = _host_of(sandbox, server.id)
        assert host != victim and status == "ACTIVE"
        assert len(_evacuations(sandbox, server.id)) == 1, "evacuated twice"


@pytest.mark.cm_config(node_tracker={"max_down_hosts": 1})
def test_only_one_of_two_trackers_acts(sandbox, hosts, cm, servers):
    victim = hosts[1]
    placed = servers(victim, [5])
    cm.add_bmc(victim, "ipmi")
    cm.start("beat", "beat-a")
    cm.start("beat", "beat-b")
    cm.start("worker")
    wait_for("a leader", lambda: "is now the leader" in cm.output("beat-a") + cm.output("beat-b"),
             30)
    time.sleep(3)
    leaders = [n for n in ("beat-a", "beat-b") if "is now the leader" in cm.output(n)]
    assert len(leaders) == 1, leaders
    cm.kill(leaders[0])
    follower = "beat-b" if leaders[0] == "beat-a" else "beat-a"
    wait_for("the follower to take over", lambda: "is now the leader" in cm.output(follower), 30)
    sandbox.kill_host(victim)
    task = cm.wait_task_final(victim, timeout=180)
    assert task.state == "done"
    assert len(cm.tasks(victim)) == 1
    assert len(_evacuations(sandbox, placed[0].id)) == 1


SHUTDOWN_API_PORT = 19362


@pytest.mark.cm_config(power={"shutdown_interval": 1, "shutdown_max_tick": 20},
                       api={"port": SHUTDOWN_API_PORT}, agent={"enabled": "true"})
def test_planned_shutdown_through_the_cli_powers_off_and_moves_the_servers(
        sandbox, hosts, cm, servers):
    """With the node's agent: it stops nova-compute and says what still runs first."""
    victim = hosts[2]
    placed = servers(victim, [5, 5])
    cm.add_bmc(victim, "redfish")
    cm.start_agent(victim)
    wait_for("the agent's first report",
             lambda: (cm.root / "shared" / f"{victim}.json").exists(), 30)
    cm.start("api")
    cm.start("beat")
    cm.start("worker")
    wait_for("nodes discovered", lambda: cm.node_states().get(victim) == "up", 60)
    url = f"http://127.0.0.1:{SHUTDOWN_API_PORT}"
    wait_for("the API", lambda: _cli(url, "node", "show", victim).returncode == 0, 30)

    refused = _cli(url, "node", "shutdown", hosts[0])  # no power device
    assert refused.returncode == 1
    assert refused.stderr.strip().endswith(
        f"node '{hosts[0]}' has no power device: CloudManager cannot shut it down"), refused.stderr

    started = _cli(url, "node", "shutdown", victim, "--reason", "firmware upgrade",
                   "-f", "json")
    assert started.returncode == 0, started.stderr
    task = cm.wait_task_final(victim, timeout=180)
    assert task.state == "done", task.message
    assert task.kind == "planned-shutdown"
    for server in placed:
        host, status = _host_of(sandbox, server.id)
        assert host != victim and status == "ACTIVE", (host, status)
        assert len(_evacuations(sandbox, server.id)) == 1
    assert ("action", "node agent prepared the shutdown: nova-compute stopped; 2 instance(s) "
            "still on the node (2 running), evacuated once it is off") in [
        (e.kind, e.message) for e in cm.events(victim)]
    down = next(e for e in cm.events(victim, "transition") if e.to_state == "down")
    assert f"planned shutdown: shut down cleanly through power device {victim}-bmc" in (
        down.message)
    bmc = sandbox.info["bmc"][victim]["redfish"]
    driver = driver_for("redfish", name=victim, address=bmc["url"], port=None,
                        username=bmc["username"], password=bmc["password"],
                        options={"system_id": bmc["system_id"]})
    assert driver.power_state() == "off"
    service = sandbox.compute_service(victim)
    assert service.is_forced_down and service.status == "disabled"


def _cli(url: str, *args: str):
    return subprocess.run([str(BIN / "openstack"), "--os-auth-type", "none",
                           "--os-cloud-manager-url", url, "aos", *args],
                          capture_output=True, text=True, timeout=120)
