"""storage_sync on the sandbox: the beat fills ``openstack aos storage list`` from the real
Cinder (its scheduler's pools, its cinder-volume services); stopping cinder-volume makes a
sync mark its pools down with an event, starting it again marks them up.

One CloudManager deployment (API, beat with only storage_sync, every 3 s). Cinder counts a
service down after ``service_down_time`` (30 s in the sandbox), so each wait is bounded by
that plus a few syncs.
"""

from __future__ import annotations

import pytest

from tests.cli import openstack
from tools.aos_sandbox import conffiles
from tools.aos_sandbox.aos_services import CloudManager, answers, wait_for

pytestmark = pytest.mark.functional

API = "http://127.0.0.1:9362"
BACKENDS = {f"{conffiles.CINDER_HOST}@{name}" for name in conffiles.volume_backends()}
# Cinder's service_down_time (30 s) and a few syncs.
STATE_CHANGE_S = 90


@pytest.fixture
def cm(sandbox, tmp_path):
    deployment = CloudManager(sandbox, tmp_path,
                              node_tracker={"enabled": "false"}, node_sync={"enabled": "false"},
                              storage_sync={"sync_interval": 3})
    yield deployment
    deployment.drop()


def _aos(*args: str):
    result = openstack("--os-auth-type", "none", "--os-cloud-manager-url", API, "aos", *args,
                       "-f", "json")
    assert result.code == 0, result.err
    return result.json()


def _states() -> dict[str, str]:
    return {pool["Name"]: pool["State"] for pool in _aos("storage", "list")}


def _storage_events() -> list[str]:
    return [e["Message"] for e in _aos("event", "list", "--kind", "storage")]


def test_storage_list_follows_cinder_volume_going_down_and_back(sandbox, cm):
    cm.start("api")
    cm.start("beat")
    wait_for("the API", lambda: answers(f"{API}/"), 60)
    wait_for("a pool of every backend, up",
             lambda: {p.partition("#")[0] for p, s in _states().items() if s == "up"}
             >= BACKENDS, 60, 1)
    pools = set(_states())
    ebs = _aos("storage", "show", f"{conffiles.CINDER_HOST}@ebs#ebs")
    assert (ebs["Backend"], ebs["Volume backend name"]) == (f"{conffiles.CINDER_HOST}@ebs",
                                                           "ebs")
    assert ebs["Total capacity gb"] == "infinite"  # what the EBS driver reports
    assert ebs["Last sync"]["ok"] is True

    sandbox.stop_service("cinder-volume")
    try:
        wait_for("the pools down", lambda: all(_states()[p] == "down" for p in pools),
                 STATE_CHANGE_S, 2)
        down = _aos("storage", "show", f"{conffiles.CINDER_HOST}@yandex#yandex")
        assert "cinder-volume sandbox@yandex is down" in down["State reason"]
        events = _storage_events()
        for pool in pools:
            assert any(m.startswith(f"storage pool {pool} is down (was up): cinder-volume")
                       for m in events), events
    finally:
        sandbox.start_service("cinder-volume")
    wait_for("the pools up again", lambda: all(_states()[p] == "up" for p in pools),
             STATE_CHANGE_S, 2)
    events = _storage_events()
    for pool in pools:
        assert any(m.startswith(f"storage pool {pool} is up again (was down)")
                   for m in events), events
    assert cm.running() == {"api": True, "beat": True}
