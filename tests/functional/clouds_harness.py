"""A Clouds API deployment for the functional tests: ``aos-clouds-api`` as a subprocess with
Keystone auth, the sandbox's service user, and the sandbox's AWS and Yandex doubles."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from aos import crypto
from tests.cli import Result, openstack
from tools.aos_sandbox.aos_services import (
    cloud_endpoints,
    image_uploads,
    keystone_auth,
    openstack_section,
    unregister,
)

BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _ini(sections: dict[str, dict[str, Any]]) -> str:
    return "".join(f"[{name}]\n" + "".join(f"{k} = {v}\n" for k, v in values.items()) + "\n"
                   for name, values in sections.items())


class Clouds:
    """The API process, and the ``openstack`` command pointed at it as admin or anyone."""

    def __init__(self, sandbox: Any, root: Path, worker: bool = False) -> None:
        self.sandbox = sandbox
        self.root = root
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {"AOS_CONFIG_DIR": str(root / "etc")}
        self.process: subprocess.Popen | None = None
        self.worker: subprocess.Popen | None = None
        self.with_worker = worker

    def write_config(self) -> None:
        (self.root / "etc").mkdir(parents=True, exist_ok=True)
        (self.root / "etc" / "clouds.conf").write_text(_ini({
            "DEFAULT": {"state_path": self.root / "state", "log_root": self.root / "log"},
            "api": {"host": "127.0.0.1", "port": self.port, "workers": 1},
            "keystone_authtoken": keystone_auth(self.sandbox),
            "openstack": openstack_section(self.sandbox),
            **cloud_endpoints(self.sandbox),
            **image_uploads(self.sandbox),
            "worker": {"drift_interval": 0},
        }))
        crypto.create_key_file(self.root / "state" / "secret.key")

    def start(self) -> None:
        self.write_config()
        env = dict(os.environ, **self.env)
        migrated = subprocess.run([BIN / "openstack", "aos", "db", "migrate", "-n", "clouds"],
                                  env=env, capture_output=True, text=True, timeout=120)
        assert migrated.returncode == 0, migrated.stderr
        self.process = self._spawn("aos-clouds-api", env)
        if self.with_worker:
            self.worker = self._spawn("aos-clouds-worker", env)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(
                    ("127.0.0.1", self.port), timeout=1):
                return
            assert self.process.poll() is None, (self.root / "aos-clouds-api.out").read_text()
            time.sleep(0.3)
        raise TimeoutError("aos-clouds-api did not listen within 60 s")

    def _spawn(self, command: str, env: dict[str, str]) -> subprocess.Popen:
        log = open(self.root / f"{command}.out", "ab")  # noqa: SIM115 - kept for the process
        return subprocess.Popen([BIN / command], env=env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)

    def stop(self) -> None:
        for process in (self.worker, self.process):
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(timeout=5)

    def osc_env(self, creds: dict[str, str]) -> dict[str, str]:
        info = self.sandbox.info
        return {"OS_AUTH_URL": info["auth_url"], "OS_AUTH_TYPE": "password",
                "OS_IDENTITY_API_VERSION": "3", "OS_REGION_NAME": info["region"],
                "OS_INTERFACE": "public", "OS_USERNAME": creds["username"],
                "OS_PASSWORD": creds["password"], "OS_PROJECT_NAME": creds["project_name"],
                "OS_USER_DOMAIN_NAME": "Default", "OS_PROJECT_DOMAIN_NAME": "Default",
                "OS_CLOUDS_URL": self.url}

    def openstack(self, *args: str, creds: dict[str, str] | None = None) -> Result:
        """``openstack …`` as the admin (or ``creds``), the Clouds API at self.url."""
        return openstack(*args, env=self.osc_env(creds or self.sandbox.info["admin"]))


@contextlib.contextmanager
def clouds_api(sandbox: Any, root: Path, worker: bool = False) -> Iterator[Clouds]:
    clouds = Clouds(sandbox, root, worker)
    clouds.start()
    try:
        yield clouds
    finally:
        clouds.stop()


@contextlib.contextmanager
def registered_clouds_api(sandbox: Any, root: Path, worker: bool = False
                          ) -> Iterator[Clouds]:
    """The Clouds API, registered in Keystone as service ``clouds`` (spec steps 10-11), so
    the drivers inside Nova, Cinder, Glance and Neutron find it; unregistered after."""
    assert "doubles" in sandbox.info, "the sandbox runs no cloud doubles"
    admin = sandbox.conn("admin")
    with clouds_api(sandbox, root, worker) as api:
        unregister(admin)
        service = admin.identity.create_service(name="clouds", type="clouds",
                                                description="Clouds Service")
        for interface in ("internal", "admin", "public"):
            admin.identity.create_endpoint(service_id=service.id, interface=interface,
                                           url=api.url, region_id=sandbox.info["region"])
        try:
            yield api
        finally:
            unregister(admin)


def external_network(admin: Any) -> Any:
    """An admin's external flat network, as the guide asks for floating IPs."""
    net = admin.network.create_network(
        name=f"ext-{uuid.uuid4().hex[:6]}", is_router_external=True,
        provider_network_type="flat", provider_physical_network=f"ext{uuid.uuid4().hex[:6]}")
    admin.network.create_subnet(network_id=net.id, ip_version=4, cidr="203.0.113.0/24",
                                enable_dhcp=False)
    return net


def ok(result) -> Any:
    assert result.code == 0, result.err
    return result.json() if result.out.strip().startswith(("{", "[")) else result.out


def _forget_project(sandbox, name: str) -> None:
    """Delete a project of that name and what the Clouds API made for it."""
    admin = sandbox.conn("admin")
    project = admin.identity.find_project(name, ignore_missing=True)
    if project is None:
        return
    for image in admin.image.images(owner=project.id):
        admin.image.delete_image(image, ignore_missing=True)
    for flavor in admin.compute.flavors(is_public="None"):
        if flavor.name.startswith(f"{name}."):
            admin.compute.delete_flavor(flavor, ignore_missing=True)
    admin.identity.delete_project(project, ignore_missing=True)


@contextlib.contextmanager
def spec_project(clouds: Clouds, name: str) -> Iterator[str]:
    """`openstack project create <name>` + `role add --user admin admin`, as the guide says."""
    _forget_project(clouds.sandbox, name)
    project = ok(clouds.openstack("project", "create", name, "-f", "json"))
    ok(clouds.openstack("role", "add", "--project", name, "--user", "admin", "admin"))
    try:
        yield project["id"]
    finally:
        clouds.openstack("aos", "clouds", "delete", "--project", name, "--force")
        _forget_project(clouds.sandbox, name)
