"""``openstack aos drs plans|apply`` through the real ``openstack`` command and the real API
(served in a thread): the plans as JSON, a manual apply, and every error as one line."""

from __future__ import annotations

import socket

import pytest

from aos import conf as aos_conf
from cloud_manager.api import cloud_manager_api
from cloud_manager.module import MODULE
from tests.unit.cloud_manager.balancing.test_balancing_task import BalancingNova
from tests.unit.cloud_manager.conftest import HOSTS
from tests.unit.cloud_manager.drs.test_drs_task import MemoryWatcher, _live
from tests.unit.cloud_manager.test_api import make_conf
from tests.unit.cloud_manager.test_cli import _Serving, aos, one_line_error

PLAN = "6f1c8a52-52b3-4e8c-9a0e-0c3f3c1d2b11"


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def serve(aos_env):
    """``serve(extra_conf)``: the API with these config lines added; its URL and runtime."""
    servers = []

    def start(extra: str = ""):
        make_conf(aos_env)
        path = aos_env["etc"] / "cloud_manager.conf"
        path.write_text(path.read_text() + extra)
        app = cloud_manager_api.create_app(aos_conf.load(MODULE))
        runtime = app.extensions["runtime"]
        runtime.dispatch_task = lambda _id: None
        servers.append(_Serving(app))
        return f"http://127.0.0.1:{servers[-1].port}", runtime, app.test_client()

    yield start
    for server in servers:
        server.stop()


def test_plans_and_a_manual_apply_as_json(serve):
    url, runtime, client = serve()
    nova, watcher = BalancingNova(HOSTS), MemoryWatcher()
    runtime.__dict__.update(nova=nova, watcher=watcher)
    nova.add_server("vm0", "c1")
    watcher.add(PLAN, _live("a1", "vm0", "c1", "c2"), _live("a2", "vm0", "c1", "c3", "cold"))

    listed = aos(url, "drs", "plans", "-f", "json")
    assert listed.code == 0, listed.err
    [plan] = listed.json()
    assert (plan["Uuid"], plan["Applicable"], plan["Task"]) == (PLAN, True, None)
    assert plan["Migrations"] == [{"instance": "vm0", "instance_name": "vm0", "source": "c1",
                                   "target": "c2"}]
    assert plan["Refused"] == ["vm0: action a2: cold migration refused (only live migrations "
                               "are applied)"]
    table = aos(url, "drs", "plans")
    assert "vm0: c1 -> c2" in table.out

    applied = aos(url, "drs", "apply", PLAN, "-f", "json")
    assert applied.code == 0, applied.err
    assert applied.json()["Kind"] == "drs" and applied.json()["Hostname"] == f"drs:{PLAN}"
    assert watcher.plans[PLAN].state == "CANCELLED"
    again = one_line_error(aos(url, "drs", "apply", PLAN))
    assert again.startswith(f"409: action plan {PLAN} was taken by task ")
    bad = client.post("/v1/drs/plans/not-a-uuid/apply", json={})
    assert (bad.status_code, bad.json["error"]["message"]) == (
        404, "no Watcher action plan 'not-a-uuid': action plans are named by UUID")
    missing = "0e9c7c4e-5a0b-4f0e-8f43-61a4b1d8c0aa"
    gone = client.post(f"/v1/drs/plans/{missing}/apply", json={})
    assert (gone.status_code, gone.json["error"]["message"]) == (
        404, f"no Watcher action plan '{missing}'")
    assert client.post(f"/v1/drs/plans/{PLAN}/apply", json={"now": 1}).status_code == 400


def test_watcher_not_configured_is_503_in_one_line(serve):
    url, _, _ = serve()
    assert one_line_error(aos(url, "drs", "plans")) == (
        "503: DRS is not configured: [openstack] auth_url and [drs] password (or [openstack] "
        "password) must be set to reach Watcher")


def test_watcher_unreachable_is_502_in_one_line_within_the_timeout(serve):
    """The real adapter against closed ports: Keystone first, then Watcher, never a hang."""
    port = _closed_port()
    url, _, client = serve(f"\n[openstack]\nauth_url = http://127.0.0.1:{port}/v3\npassword = pw\n"
                   f"timeout = 2\n[drs]\nhost = 127.0.0.1\nport = {port}\n")
    line = one_line_error(aos(url, "drs", "apply", PLAN))
    assert line.startswith(f"502: Watcher at http://127.0.0.1:{port} unreachable: "), line
    listed = client.get("/v1/drs/plans")
    assert listed.status_code == 502
    assert listed.json["error"]["message"].startswith("Watcher at ")
