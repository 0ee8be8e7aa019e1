"""The CloudManager API service behind keystonemiddleware and oslo.policy, on the sandbox."""

from __future__ import annotations

import socket

import pytest
import requests

from tools.aos_sandbox.aos_services import CloudManager, wait_for

pytestmark = pytest.mark.functional


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def api(sandbox, tmp_path):
    port = _free_port()
    user = sandbox.info["service_user"]
    cm = CloudManager(
        sandbox, tmp_path,
        api={"auth_strategy": "keystone", "host": "127.0.0.1", "port": port, "workers": 1},
        keystone_authtoken={
            "www_authenticate_uri": sandbox.info["auth_url"], "auth_url": sandbox.info["auth_url"],
            "auth_type": "password", "username": user["username"], "password": user["password"],
            "project_name": user["project_name"], "user_domain_name": "Default",
            "project_domain_name": "Default"})
    cm.start("api")
    url = f"http://127.0.0.1:{port}"

    def ready():
        try:
            return requests.get(url, timeout=2).status_code == 200
        except requests.ConnectionError:
            return False

    wait_for("the API to listen", ready, 60)
    yield url, cm
    cm.drop()


def test_token_roles_and_policy(sandbox, api):
    url, cm = api
    assert requests.get(url).json()["versions"][0]["id"] == "v1"
    assert "/v1/nodes" in requests.get(f"{url}/openapi.json").json()["paths"]

    anonymous = requests.get(f"{url}/v1/nodes")
    assert anonymous.status_code == 401

    admin_token = sandbox.conn("admin").session.get_token()
    listed = requests.get(f"{url}/v1/nodes", headers={"X-Auth-Token": admin_token})
    assert listed.status_code == 200, listed.text

    member_token = sandbox.conn("demo").session.get_token()
    denied = requests.get(f"{url}/v1/nodes", headers={"X-Auth-Token": member_token})
    assert denied.status_code == 403
    assert "cloud_manager:node:list" in denied.json()["error"]["message"]

    created = requests.post(f"{url}/v1/power-devices", headers={"X-Auth-Token": admin_token},
                            json={"name": "pd1", "driver": "ipmi", "address": "127.0.0.1",
                                  "username": "admin", "password": "s3cret-pw"})
    assert created.status_code == 201, created.text
    assert created.json()["password"] == "***"
    log = cm.output("api")
    assert "POST /v1/power-devices -> 201" in log
    assert "s3cret-pw" not in log


def test_reader_with_system_scope_reads_and_cannot_write(sandbox, api):
    """The documented default: reads for admin or (reader and system scope all)."""
    import uuid

    from keystoneauth1 import session as ks_session
    from keystoneauth1.identity import v3

    url, _ = api
    admin = sandbox.conn("admin")
    password = uuid.uuid4().hex
    user = admin.identity.create_user(name=f"reader-{uuid.uuid4().hex[:6]}", password=password,
                                      domain_id="default")
    try:
        reader = admin.identity.find_role("reader")
        admin.identity.assign_system_role_to_user(user=user, role=reader, system="all")

        def token(**scope) -> str:
            auth = v3.Password(auth_url=sandbox.info["auth_url"], username=user.name,
                               password=password, user_domain_id="default", **scope)
            return ks_session.Session(auth=auth).get_token()

        system = {"X-Auth-Token": token(system_scope="all")}
        assert requests.get(f"{url}/v1/nodes", headers=system, timeout=30).status_code == 200
        assert requests.get(f"{url}/v1/events", headers=system, timeout=30).status_code == 200
        refused = requests.post(f"{url}/v1/power-devices", headers=system, timeout=30,
                                json={"name": "pd-r", "driver": "ipmi", "address": "10.0.0.1"})
        assert refused.status_code == 403, refused.text
        # The same role on a project, without system scope, reads nothing.
        admin.identity.assign_project_role_to_user(
            admin.identity.find_project(sandbox.info["demo"]["project_name"]), user, reader)
        project = {"X-Auth-Token": token(project_name=sandbox.info["demo"]["project_name"],
                                         project_domain_id="default")}
        assert requests.get(f"{url}/v1/nodes", headers=project, timeout=30).status_code == 403
    finally:
        admin.identity.delete_user(user)
