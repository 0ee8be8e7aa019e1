"""Fixtures for functional tests against the OpenStack sandbox (tools/sandbox).

`sandbox` (session) brings the sandbox up once per run (or reuses a running one when
AOS_SANDBOX_REUSE=1) and never tears it down unless AOS_SANDBOX_TEARDOWN=1: starting it is
the slow part, and other work uses it too. `project` (function) gives each test its own
project and member user so tests do not see each other's servers.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tools.aos_sandbox.client import Sandbox, connect, sandbox_cmd

__all__ = ["REPO", "Sandbox", "connect"]

REPO = Path(__file__).resolve().parents[2]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "functional: needs the OpenStack sandbox (tools/sandbox)")


def _is_up() -> bool:
    return sandbox_cmd("status", check=False).returncode == 0


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    if not (os.environ.get("AOS_SANDBOX_REUSE") == "1" and _is_up()):
        sandbox_cmd("up")
    yield Sandbox.load()
    if os.environ.get("AOS_SANDBOX_TEARDOWN") == "1":
        sandbox_cmd("down")


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
