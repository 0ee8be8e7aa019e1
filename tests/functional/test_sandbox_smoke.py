"""Smoke test of the sandbox: the failure-and-recovery path CloudManager automates.

Boot servers with real ports on chosen hosts, live-migrate one, power-fail a host, force
its compute service down, evacuate, bring the host back and unset force_down.
Each step's duration is printed (run with -s to see it).
"""

from __future__ import annotations

import time
from contextlib import contextmanager

import pytest

from tests.functional.conftest import connect

pytestmark = pytest.mark.functional

SERVICE_MICROVERSION = "2.53"


@contextmanager
def step(name: str):
    start = time.monotonic()
    yield
    print(f"[smoke] {name}: {time.monotonic() - start:.2f}s")


def _host(conn, server) -> str:
    return conn.compute.get_server(server).compute_host


def _wait_host(conn, server, host: str, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while True:
        current = conn.compute.get_server(server)
        if current.compute_host == host and current.status == "ACTIVE":
            return current
        if current.status == "ERROR" or time.monotonic() > deadline:
            raise AssertionError(
                f"{current.name}: {current.status} on {current.compute_host}, not ACTIVE on {host}"
            )
        time.sleep(0.5)


def _wait_moved(conn, server, away_from: str, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while True:
        current = conn.compute.get_server(server)
        if current.compute_host != away_from and current.status == "ACTIVE":
            return current
        if current.status == "ERROR" or time.monotonic() > deadline:
            raise AssertionError(
                f"{current.name}: {current.status} on {current.compute_host} after evacuation"
            )
        time.sleep(0.5)


def _set_forced_down(admin, host: str, forced: bool, timeout: float = 60) -> None:
    """Force a compute service down/up; un-forcing returns 400 until the host cleaned up."""
    from openstack import exceptions

    deadline = time.monotonic() + timeout
    while True:
        svc = next(iter(admin.compute.services(binary="nova-compute", host=host)))
        try:
            admin.compute.update_service_forced_down(svc, host, "nova-compute", forced)
            return
        except exceptions.BadRequestException:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


def test_boot_migrate_fail_evacuate_recover(sandbox, project):
    admin = sandbox.conn("admin")
    admin.compute.default_microversion = SERVICE_MICROVERSION
    # Choosing the host at boot (availability_zone "nova:HOST") needs the admin role, so
    # the test's own user gets it in its own project: servers and ports stay in the project.
    admin.identity.assign_project_role_to_user(
        project.id, project.user_id, admin.identity.find_role("admin")
    )
    conn = connect(sandbox.info["auth_url"], project.creds, sandbox.info["region"])
    net = conn.network.find_network("private")
    flavor = conn.compute.find_flavor("m1.tiny")
    image = conn.image.find_image("cirros")

    servers = {}
    placement = (("a", "compute1"), ("b", "compute1"), ("c", "compute2"))
    with step("boot 3 servers with ports on compute1, compute1, compute2"):
        for name, host in placement:
            port = conn.network.create_port(network_id=net.id, name=f"port-{name}")
            servers[name] = conn.compute.create_server(
                name=name,
                flavor_id=flavor.id,
                image_id=image.id,
                networks=[{"port": port.id}],
                availability_zone=f"nova:{host}",
            )
        for name, host in placement:
            _wait_host(admin, servers[name], host)
    for name in servers:
        ports = list(admin.network.ports(device_id=servers[name].id))
        assert ports and ports[0].binding_vif_type == "ovs", ports

    with step("live-migrate c compute2 -> compute3"):
        admin.compute.live_migrate_server(servers["c"], host="compute3", block_migration="auto")
        _wait_host(admin, servers["c"], "compute3")
    with step("live-migrate c back compute3 -> compute2"):
        admin.compute.live_migrate_server(servers["c"], host="compute2", block_migration="auto")
        _wait_host(admin, servers["c"], "compute2")

    with step("kill compute1 + force_down"):
        sandbox.kill_host("compute1")
        _set_forced_down(admin, "compute1", True)
    assert sandbox.wait_compute_state("compute1", "down", timeout=10).is_forced_down

    with step("evacuate a, b from compute1"):
        for name in ("a", "b"):
            admin.compute.evacuate_server(servers[name])
        moved = [_wait_moved(admin, servers[name], "compute1") for name in ("a", "b")]
    assert all(s.compute_host not in (None, "compute1") for s in moved), moved

    with step("start compute1 + unset force_down + service up"):
        sandbox.start_host("compute1")
        _set_forced_down(admin, "compute1", False)
        svc = sandbox.wait_compute_state("compute1", "up", timeout=60)
    assert not svc.is_forced_down

    with step("boot on recovered compute1"):
        d = conn.compute.create_server(
            name="d",
            flavor_id=flavor.id,
            image_id=image.id,
            networks=[{"uuid": net.id}],
            availability_zone="nova:compute1",
        )
        _wait_host(admin, d, "compute1")


def test_member_boots_on_shared_network(project):
    """A plain member (no admin role) can boot a server with a port on `private`."""
    conn = project.conn
    net = conn.network.find_network("private")
    with step("member boot on private"):
        server = conn.compute.create_server(
            name="member-vm",
            flavor_id=conn.compute.find_flavor("m1.tiny").id,
            image_id=conn.image.find_image("cirros").id,
            networks=[{"uuid": net.id}],
        )
        server = conn.compute.wait_for_server(server, interval=0.5, wait=60)
    assert server.status == "ACTIVE"
    assert list(conn.network.ports(device_id=server.id))
