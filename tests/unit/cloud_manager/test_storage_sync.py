"""storage_sync on a real (SQLite, migrated) database with Cinder's answers in memory; the
Cinder adapter's reading of Cinder's own JSON shapes."""

from __future__ import annotations

import pytest

from aos import periodic
from cloud_manager import storage_sync
from cloud_manager.cinder import CinderError, pool_report, pool_users, users_by_pool, volume_service
from cloud_manager.db import api as db_api
from cloud_manager.model.storage import PoolState

# As Cinder's API answers (get_pools?detail=true, os-services, volumes/detail).
POOLS = [{"name": "ctl@ebs#ebs", "capabilities": {
    "volume_backend_name": "ebs", "total_capacity_gb": "infinite",
    "free_capacity_gb": "infinite", "allocated_capacity_gb": 3, "pool_name": "ebs"}},
         {"name": "ctl@ordinary#ordinary", "capabilities": {
             "volume_backend_name": "ordinary", "total_capacity_gb": 1024.5,
             "free_capacity_gb": "1000", "allocated_capacity_gb": 0}}]
SERVICES = [{"binary": "cinder-volume", "host": "ctl@ebs", "state": "up", "status": "enabled",
             "updated_at": "2026-12-01T12:00:00.000000"},
            {"binary": "cinder-volume", "host": "ctl@ordinary", "state": "up",
             "status": "disabled", "updated_at": "2026-12-01T12:00:00.000000"}]
VOLUMES = [{"id": "v1", "os-vol-host-attr:host": "ctl@ebs#ebs",
            "attachments": [{"host_name": "c2"}]},
           {"id": "v2", "os-vol-host-attr:host": "ctl@ebs#ebs",
            "attachments": [{"host_name": "c1"}, {"host_name": None}]},
           {"id": "v3", "os-vol-host-attr:host": "ctl@ordinary",
            "attachments": [{"host_name": "c3"}]}]


class FakeCinder:
    """Cinder's answers, parsed by the adapter's own functions; ``error`` makes it silent."""

    def __init__(self) -> None:
        self.pool_bodies, self.service_bodies = list(POOLS), [dict(s) for s in SERVICES]
        self.error: str | None = None

    def _answer(self, value):
        if self.error:
            raise CinderError(self.error)
        return value

    def pools(self):
        return self._answer([pool_report(p) for p in self.pool_bodies])

    def volume_services(self):
        return self._answer([volume_service(s) for s in self.service_bodies])

    def attached_volumes(self):
        return self._answer(VOLUMES)

    def stop(self, backend: str) -> None:
        """What Cinder says once a cinder-volume stopped: service down, its pools unlisted."""
        for service in self.service_bodies:
            if service["host"] == backend:
                service["state"] = "down"
        self.pool_bodies = [p for p in POOLS if not p["name"].startswith(backend + "#")]

    def start(self) -> None:
        self.pool_bodies, self.service_bodies = list(POOLS), [dict(s) for s in SERVICES]


@pytest.fixture
def runtime(make_runtime):
    runtime = make_runtime()
    runtime.__dict__["cinder"] = FakeCinder()
    return runtime


def _pools(runtime):
    with runtime.transaction() as session:
        return db_api.storage_pools(session)


def _events(runtime, hostname=None):
    with runtime.transaction() as session:
        return [e.message for e in db_api.events(session, hostname=hostname, kind="storage")]


def test_the_adapter_reads_cinders_shapes():
    ebs, ordinary = (pool_report(p) for p in POOLS)
    assert (ebs.total_gb, ebs.allocated_gb, ebs.backend) == ("infinite", 3.0, "ctl@ebs")
    assert (ordinary.total_gb, ordinary.free_gb) == (1024.5, 1000.0)
    service = volume_service(SERVICES[1])
    assert (service.backend, service.up, service.enabled) == ("ctl@ordinary", True, False)
    users = users_by_pool(pool_users(VOLUMES), ["ctl@ebs#ebs", "ctl@ordinary#ordinary"])
    assert users == {"ctl@ebs#ebs": ("c1", "c2"), "ctl@ordinary#ordinary": ("c3",)}


def test_a_sync_stores_the_pools_then_a_stopped_volume_service_downs_its_pools(runtime):
    sync = storage_sync.StorageSync(runtime)
    first = sync.sync()
    assert first.ok and first.pools == 2
    pools = _pools(runtime)
    assert pools["ctl@ebs#ebs"].hosts == ("c1", "c2")
    assert pools["ctl@ordinary#ordinary"].enabled is False
    assert pools["ctl@ordinary#ordinary"].total_gb == 1024.5
    assert {p.state for p in pools.values()} == {PoolState.UP}

    runtime.cinder.stop("ctl@ebs")
    down = sync.sync()
    assert [(t.pool, t.after) for t in down.transitions] == [("ctl@ebs#ebs", PoolState.DOWN)]
    assert _pools(runtime)["ctl@ebs#ebs"].state is PoolState.DOWN
    assert _pools(runtime)["ctl@ordinary#ordinary"].state is PoolState.UP
    assert "storage pool ctl@ebs#ebs is down (was up): cinder-volume ctl@ebs is down" in \
        _events(runtime)[0]
    assert "volumes attached on this node" in _events(runtime, "c1")[0]

    runtime.cinder.start()
    back = sync.sync()
    assert [(t.pool, t.after) for t in back.transitions] == [("ctl@ebs#ebs", PoolState.UP)]
    assert "is up again" in _events(runtime)[0]


def test_cinder_silent_is_a_failed_sync_that_changes_no_pool(runtime):
    sync = storage_sync.StorageSync(runtime)
    sync.sync()
    before = _pools(runtime)
    runtime.cinder.error = "GET /scheduler-stats/get_pools: ConnectTimeout: timed out"
    result = sync.sync()
    assert not result.ok and "sync failed" in result.message
    assert _pools(runtime) == before
    with runtime.transaction() as session:
        last = db_api.last_storage_sync(session)
        assert not last.ok and "ConnectTimeout" in last.message
        assert db_api.last_storage_sync(session, ok=True).pools == 2


def test_a_controller_that_lost_leadership_writes_nothing(runtime):
    assert storage_sync.StorageSync(runtime, still_leader=lambda: False).sync() is None
    assert _pools(runtime) == {}


def test_the_loop_survives_a_failing_sync_and_runs_on_the_leader_only(runtime):
    calls, runs = [], iter([True, False, True])

    class Failing(storage_sync.StorageSync):
        def sync(self):
            calls.append(1)
            raise RuntimeError("database gone")

    sleeps: list[float] = []
    storage_sync.run_forever(Failing(runtime), lambda: next(runs),
                             stopped=lambda: len(sleeps) == 3, sleep=sleeps.append,
                             monotonic=lambda: 0.0)
    assert len(calls) == 2  # leader, not leader, leader: the failure stopped nothing
    # after a failure: soon, then twice as long; a follower asks for the lock again soon
    assert sleeps == [periodic.FIRST_RETRY_S, periodic.LEADER_POLL_S, 2 * periodic.FIRST_RETRY_S]


def test_a_backend_removed_for_good_is_forgotten_after_the_retention(runtime):
    now = [1_700_000_000.0]
    runtime.conf.set_override("forget_gone_after", 3600, "storage_sync")
    sync = storage_sync.StorageSync(runtime, clock=lambda: now[0])
    sync.sync()
    runtime.cinder.service_bodies = [s for s in SERVICES if s["host"] != "ctl@ebs"]
    runtime.cinder.pool_bodies = [p for p in POOLS if not p["name"].startswith("ctl@ebs#")]
    sync.sync()
    assert _pools(runtime)["ctl@ebs#ebs"].state is PoolState.GONE
    now[0] += 3600
    sync.sync()
    assert set(_pools(runtime)) == {"ctl@ordinary#ordinary"}
    assert _events(runtime)[0].startswith("storage pool ctl@ebs#ebs forgotten: gone since")
