"""Fixtures for functional tests against the OpenStack sandbox (tools/sandbox).

`sandbox` (session) brings the sandbox up once per run (or reuses a running one when
AOS_SANDBOX_REUSE=1) and never tears it down unless AOS_SANDBOX_TEARDOWN=1: starting it is
the slow part, and other work uses it too. `project` (function) gives each test its own
project and member user so tests do not see each other's servers.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
SANDBOX_CMD = REPO / "tools" / "sandbox"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "functional: needs the OpenStack sandbox (tools/sandbox)")


def _state_dir() -> Path:
    return Path(os.environ.get("AOS_SANDBOX_DIR") or REPO / ".sandbox").resolve()


def _sandbox(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SANDBOX_CMD), *args], check=check, text=True, capture_output=not check
    )


def connect(auth_url: str, creds: dict[str, str], region: str) -> Any:
    """An openstacksdk Connection for one set of keystone credentials."""
    import openstack

    return openstack.connect(
        auth_url=auth_url,
        region_name=region,
        identity_interface="public",
        username=creds["username"],
        password=creds["password"],
        project_name=creds["project_name"],
        user_domain_name=creds.get("user_domain_name", "Default"),
        project_domain_name=creds.get("project_domain_name", "Default"),
    )


@dataclass
class Sandbox:
    """A running sandbox, as described by its sandbox.json."""

    info: dict[str, Any]
    _conns: dict[str, Any] = field(default_factory=dict)

    def conn(self, project: str = "admin") -> Any:
        """openstacksdk Connection as the `admin` or `demo` user (cached)."""
        if project not in self._conns:
            self._conns[project] = connect(
                self.info["auth_url"], self.info[project], self.info["region"]
            )
        return self._conns[project]

    def kill_host(self, name: str) -> None:
        """SIGKILL the host's nova-compute (a power loss)."""
        _sandbox("kill-host", name)

    def start_host(self, name: str) -> None:
        """Start the host's nova-compute again (same node, same UUID)."""
        _sandbox("start-host", name)

    def bmc_report(self, name: str, report: str | None) -> None:
        """Make the host's BMCs answer status reads with an awkward state (powering-off,
        powering-on, unknown, none) until called with None; power actions still act."""
        sys.path.insert(0, str(REPO / "tools"))
        from aos_sandbox import bmc

        bmc.set_report(_state_dir(), name, report)

    def compute_service(self, name: str) -> Any:
        services = list(self.conn().compute.services(binary="nova-compute", host=name))
        return services[0] if services else None

    def wait_active(self, server: Any, timeout: float = 120) -> Any:
        """Wait for ACTIVE; on ERROR fail with Nova's fault and the sandbox log lines that
        explain it (a bare "transitioned to ERROR" says nothing in a CI log)."""
        conn = self.conn()
        try:
            return conn.compute.wait_for_server(server, interval=0.5, wait=timeout)
        except Exception as exc:
            current = conn.compute.get_server(server)
            raise AssertionError(
                f"server {current.id} is {current.status} on {current.compute_host}: "
                f"fault={current.fault}\n{self.log_errors()}"
            ) from exc

    def log_errors(self, lines: int = 40) -> str:
        """The last ERROR lines of the Nova and Neutron logs."""
        found = []
        for log in sorted((_state_dir() / "log").glob("*.log")):
            if log.name.startswith(("nova", "compute", "neutron", "placement")):
                errors = [line for line in log.read_text(errors="replace").splitlines()
                          if " ERROR " in line]
                found += [f"{log.name}: {line}" for line in errors[-lines:]]
        return "\n".join(found[-lines:])

    def wait_compute_state(self, name: str, state: str, timeout: float = 60) -> Any:
        """Wait until nova reports the host's nova-compute as `up` or `down`."""
        deadline = time.monotonic() + timeout
        while True:
            svc = self.compute_service(name)
            if svc is not None and svc.state == state:
                return svc
            if time.monotonic() > deadline:
                current = svc.state if svc is not None else "missing"
                raise TimeoutError(
                    f"nova-compute on {name} is {current}, not {state}, after {timeout}s"
                )
            time.sleep(1)


def _is_up() -> bool:
    return _sandbox("status", check=False).returncode == 0


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    if not (os.environ.get("AOS_SANDBOX_REUSE") == "1" and _is_up()):
        _sandbox("up")
    info = json.loads((_state_dir() / "sandbox.json").read_text())
    yield Sandbox(info)
    if os.environ.get("AOS_SANDBOX_TEARDOWN") == "1":
        _sandbox("down")


@dataclass
class Project:
    """An isolated project with one member user and its own Connection."""

    id: str
    name: str
    user_id: str
    conn: Any
    creds: dict[str, str]


@pytest.fixture
def project(sandbox: Sandbox) -> Iterator[Project]:
    admin = sandbox.conn("admin")
    name = f"test-{uuid.uuid4().hex[:10]}"
    password = uuid.uuid4().hex
    proj = admin.identity.create_project(name=name, domain_id="default")
    user = admin.identity.create_user(
        name=name, password=password, domain_id="default", default_project_id=proj.id
    )
    member = admin.identity.find_role("member")
    admin.identity.assign_project_role_to_user(proj, user, member)
    creds = {
        "username": name,
        "password": password,
        "project_name": name,
        "user_domain_name": "Default",
        "project_domain_name": "Default",
    }
    conn = connect(sandbox.info["auth_url"], creds, sandbox.info["region"])
    try:
        yield Project(proj.id, name, user.id, conn, creds)
    finally:
        _cleanup_project(admin, proj.id, user.id)


def _cleanup_project(admin: Any, project_id: str, user_id: str) -> None:
    servers = list(admin.compute.servers(all_projects=True, project_id=project_id))
    for server in servers:
        admin.compute.delete_server(server, force=True)
    for server in servers:
        with contextlib.suppress(Exception):  # best effort: go on deleting the rest
            admin.compute.wait_for_delete(server, wait=60)
    for port in admin.network.ports(project_id=project_id):
        admin.network.delete_port(port, ignore_missing=True)
    admin.identity.delete_user(user_id, ignore_missing=True)
    admin.identity.delete_project(project_id, ignore_missing=True)
