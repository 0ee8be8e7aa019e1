"""An AWS-bound project set up as spec 000's guide does it, on the sandbox (moto as AWS):
shared by ``make demo`` and the functional tests of the compute driver.

``run`` is how the caller runs ``openstack <args> -f json`` against its Clouds API (it
returns the parsed output and fails with the command's error).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
REGION, ZONE = "us-east-2", "us-east-2a"
#: The guide's AMI (the sandbox's moto knows it) and the one type the flavors cover.
SPEC_AMI = "ami-0f7919c33c90f5b58"
INSTANCE_TYPE = "t3.micro"
AWS_HOST = "aws-compute"

Run = Callable[..., Any]


def admin_cli(sandbox: Any, openstack: Path) -> Run:
    """``openstack <args> -f json`` as the sandbox's admin (the Clouds API from the catalog)."""
    creds = sandbox.info["admin"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env.update({"OS_AUTH_URL": sandbox.info["auth_url"], "OS_AUTH_TYPE": "password",
                "OS_IDENTITY_API_VERSION": "3", "OS_REGION_NAME": sandbox.info["region"],
                "OS_INTERFACE": "public", "OS_USERNAME": creds["username"],
                "OS_PASSWORD": creds["password"], "OS_PROJECT_NAME": creds["project_name"],
                "OS_USER_DOMAIN_NAME": "Default", "OS_PROJECT_DOMAIN_NAME": "Default"})

    def run(*args: str) -> Any:
        done = subprocess.run([openstack, *args, "-f", "json"], env=env, text=True,
                              capture_output=True, timeout=180, stdin=subprocess.DEVNULL)
        if done.returncode != 0:
            raise RuntimeError(f"openstack {' '.join(args[:3])}: {done.stderr.strip()[-300:]}")
        return json.loads(done.stdout) if done.stdout.strip() else None
    return run


def bind(run: Run, admin: Any, project: Any, admin_user: str) -> dict[str, str]:
    """The guide's steps for ``project``: the admin user as its admin, ``clouds add aws``,
    the AMI and the t3.micro flavor registered. Returns the Glance image and flavor ids."""
    user = admin.identity.find_user(admin_user)
    admin.identity.assign_project_role_to_user(project.id, user,
                                               admin.identity.find_role("admin"))
    run("aos", "clouds", "add", "aws", "--project", project.name, "--access-key", ACCESS_KEY,
        "--secret-key", SECRET_KEY, "--region", REGION, "--az", ZONE)
    image = run("aos", "clouds", "images", "register", "--project", project.name,
                "--cloud-image-id", SPEC_AMI)["Image id"]
    activate_image(admin, image)
    flavors = run("aos", "clouds", "flavors", "register", "--project", project.name,
                  "--filter", INSTANCE_TYPE)
    flavor = next(f["Id"] for f in flavors if f["Name"].endswith(f".{INSTANCE_TYPE}"))
    return {"image": image, "flavor": flavor}


def activate_image(admin: Any, image_id: str) -> None:
    """Nova boots only active images; registering gives the image its location in the
    cloud's Glance store, which makes it active. Anything else is a broken store setup."""
    image = admin.image.get_image(image_id)
    if image.status != "active":
        raise RuntimeError(f"registered image {image_id} is {image.status}, not active: is "
                           "the cloud's Glance store (enabled_backends) configured?")


def public_key() -> str:
    """A fresh RSA public key in OpenSSH format (Nova's key pairs validate it)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                         serialization.PublicFormat.OpenSSH).decode()


def ec2(endpoint_url: str) -> Any:
    """boto3's EC2 client of the guide's account on the sandbox's moto."""
    import boto3

    return boto3.client("ec2", endpoint_url=endpoint_url, region_name=REGION,
                        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)


def network(conn: Any, cidr_prefix: str) -> tuple[Any, Any]:
    """A project network and a /24 subnet the ``aws`` Neutron driver mirrors in a VPC."""
    net = conn.network.create_network(name="aws-net")
    subnet = conn.network.create_subnet(
        network_id=net.id, ip_version=4, cidr=f"{cidr_prefix}.0/24",
        allocation_pools=[{"start": f"{cidr_prefix}.4", "end": f"{cidr_prefix}.254"}])
    return net, subnet


def clean(admin: Any, project_id: str, wait: float = 60) -> None:
    """Servers, floating IPs, routers, networks and images of the project (best effort)."""
    servers = list(admin.compute.servers(all_projects=True, project_id=project_id))
    for server in servers:
        with contextlib.suppress(Exception):  # gone meanwhile: nothing to do
            admin.compute.delete_server(server, force=True)
    for server in servers:
        with contextlib.suppress(Exception):
            admin.compute.wait_for_delete(server, wait=wait)
    net = admin.network
    for fip in net.ips(project_id=project_id):
        net.delete_ip(fip, ignore_missing=True)
    for router in net.routers(project_id=project_id):
        for port in net.ports(device_id=router.id, device_owner="network:router_interface"):
            with contextlib.suppress(Exception):
                net.remove_interface_from_router(router, port_id=port.id)
        with contextlib.suppress(Exception):
            net.delete_router(router, ignore_missing=True)
    for found in net.networks(project_id=project_id):
        with contextlib.suppress(Exception):
            net.delete_network(found)
    for image in admin.image.images(owner=project_id):
        admin.image.delete_image(image, ignore_missing=True)
