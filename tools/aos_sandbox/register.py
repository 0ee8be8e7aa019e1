"""Create the sandbox's users, catalog and starter resources through openstacksdk.

Runs inside the sandbox venv (`python -m aos_sandbox.register identity|resources STATE`).
One Python process with one token is ~30x faster than a series of `openstack` CLI calls.
Every step is find-or-create, so a re-run is harmless.
"""

from __future__ import annotations

import sys
from pathlib import Path

import openstack

from aos_sandbox.config import HOST, REGION, Settings

SERVICE_USERS = ["nova", "neutron", "glance", "placement", "cinder"]
CATALOG = [
    ("keystone", "identity", None),  # created by keystone-manage bootstrap
    ("nova", "compute", f"http://{HOST}:8774/v2.1"),
    ("placement", "placement", f"http://{HOST}:8778"),
    ("glance", "image", f"http://{HOST}:9292"),
    ("neutron", "network", f"http://{HOST}:9696"),
    ("cinderv3", "volumev3", f"http://{HOST}:8776/v3/%(project_id)s"),
]
FLAVORS = [
    ("1", "m1.tiny", 1, 128, 1),
    ("2", "m1.small", 1, 512, 5),
    ("3", "m1.medium", 2, 2048, 10),
]


def admin_connection(s: Settings) -> openstack.connection.Connection:
    return openstack.connect(
        auth_url=s.auth_url,
        username="admin",
        password=s.secrets["admin"],
        project_name="admin",
        user_domain_name="Default",
        project_domain_name="Default",
        region_name=REGION,
        identity_interface="public",
    )


def _role(conn, name: str):
    return conn.identity.find_role(name) or conn.identity.create_role(name=name)


def _project(conn, name: str, description: str):
    return conn.identity.find_project(name, domain_id="default") or conn.identity.create_project(
        name=name, domain_id="default", description=description
    )


def _user(conn, name: str, password: str, project):
    user = conn.identity.find_user(name, domain_id="default")
    if user is None:
        return conn.identity.create_user(
            name=name, password=password, domain_id="default", default_project_id=project.id
        )
    return conn.identity.update_user(user, password=password)


def identity(s: Settings) -> None:
    conn = admin_connection(s)
    roles = {name: _role(conn, name) for name in ("admin", "member", "reader", "service")}
    service = _project(conn, "service", "OpenStack and AOS service users")
    demo = _project(conn, "demo", "Unprivileged demo project")
    grants = [(name, s.secrets["service"], service, ["admin", "service"]) for name in SERVICE_USERS]
    grants += [
        ("aos", s.secrets["aos"], service, ["admin", "service"]),
        ("demo", s.secrets["demo"], demo, ["member"]),
    ]
    for name, password, project, role_names in grants:
        user = _user(conn, name, password, project)
        for role in role_names:
            conn.identity.assign_project_role_to_user(project, user, roles[role])
    for name, type_, url in CATALOG:
        if url is None:
            continue
        svc = conn.identity.find_service(name) or conn.identity.create_service(
            name=name, type=type_
        )
        have = {ep.interface for ep in conn.identity.endpoints(service_id=svc.id)}
        for interface in {"public", "internal", "admin"} - have:
            conn.identity.create_endpoint(
                service_id=svc.id, interface=interface, url=url, region_id=REGION
            )


def resources(s: Settings) -> None:
    conn = admin_connection(s)
    for flavor_id, name, vcpus, ram, disk in FLAVORS:
        if conn.compute.find_flavor(name) is None:
            conn.compute.create_flavor(
                id=flavor_id, name=name, vcpus=vcpus, ram=ram, disk=disk, is_public=True
            )
    if conn.image.find_image("cirros") is None:
        conn.image.create_image(
            name="cirros",
            data=b"AOS sandbox fake image\n",
            disk_format="raw",
            container_format="bare",
            visibility="public",
            allow_duplicates=True,
        )
    net = conn.network.find_network("private")
    if net is None:
        net = conn.network.create_network(
            name="private",
            shared=True,
            provider_network_type="flat",
            provider_physical_network="physnet1",
        )
    if not list(conn.network.subnets(network_id=net.id)):
        conn.network.create_subnet(
            name="private-subnet",
            network_id=net.id,
            ip_version=4,
            cidr="10.20.0.0/22",
            gateway_ip="10.20.0.1",
            enable_dhcp=False,
        )


def main() -> None:
    phase, state = sys.argv[1], Path(sys.argv[2])
    {"identity": identity, "resources": resources}[phase](Settings(state=state))


if __name__ == "__main__":
    main()
