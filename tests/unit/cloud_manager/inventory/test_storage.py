"""What a storage sync decides from Cinder's pools and cinder-volume services."""

from __future__ import annotations

from datetime import datetime, timedelta

from cloud_manager.inventory.storage import storage_changes
from cloud_manager.model.storage import PoolReport, PoolState, VolumeService

T0 = datetime(2026, 12, 1, 12, 0, 0)
T1 = T0 + timedelta(seconds=60)


def _report(name="ctl@ebs#ebs", total=100.0, free=80.0):
    return PoolReport(name=name, volume_backend_name=name.split("#")[1], total_gb=total,
                      free_gb=free, allocated_gb=20.0)


def _service(backend="ctl@ebs", up=True, enabled=True):
    return VolumeService(backend=backend, up=up, enabled=enabled, updated_at=T0)


def _first(reports, services, users=None):
    return storage_changes({}, reports, services, users or {}, T0)


def _stored(changes):
    return {p.name: p for p in changes.pools}


def test_a_first_sync_stores_every_reported_pool_up_with_its_users():
    changes = _first([_report(), _report("ctl@yandex#yandex", "infinite", "infinite")],
                     [_service(), _service("ctl@yandex")], {"ctl@ebs#ebs": ("c1", "c2")})
    pools = _stored(changes)
    assert pools["ctl@ebs#ebs"].state is PoolState.UP
    assert pools["ctl@ebs#ebs"].hosts == ("c1", "c2")
    assert pools["ctl@ebs#ebs"].backend == "ctl@ebs"
    assert pools["ctl@yandex#yandex"].total_gb == "infinite"
    assert [(t.pool, t.before, t.after) for t in changes.transitions] == [
        ("ctl@ebs#ebs", None, PoolState.UP), ("ctl@yandex#yandex", None, PoolState.UP)]


def test_a_pool_whose_service_went_down_is_down_with_the_reason_then_up_again():
    known = _stored(_first([_report()], [_service()], {"ctl@ebs#ebs": ("c1",)}))
    # Cinder's scheduler drops the pools of a down service from get_pools.
    down = storage_changes(known, [], [_service(up=False)], {"ctl@ebs#ebs": ("c1",)}, T1)
    pool = _stored(down)["ctl@ebs#ebs"]
    assert pool.state is PoolState.DOWN and pool.state_since == T1
    assert "cinder-volume ctl@ebs is down" in pool.state_reason
    assert pool.total_gb == 100.0  # the last figures stay
    [transition] = down.transitions
    assert (transition.before, transition.after, transition.hosts) == (
        PoolState.UP, PoolState.DOWN, ("c1",))
    assert "is down (was up): cinder-volume ctl@ebs is down" in transition.message

    still = storage_changes(_stored(down), [], [_service(up=False)], {}, T1 + timedelta(60))
    assert still.transitions == () and _stored(still)["ctl@ebs#ebs"].state_since == T1

    back = storage_changes(_stored(down), [_report(free=50.0)], [_service()], {},
                           T1 + timedelta(60))
    [transition] = back.transitions
    assert transition.after is PoolState.UP and "up again (was down)" in transition.message
    assert _stored(back)["ctl@ebs#ebs"].free_gb == 50.0


def test_a_reported_pool_of_a_service_seen_down_is_down():
    changes = _first([_report()], [_service(up=False)])
    assert _stored(changes)["ctl@ebs#ebs"].state is PoolState.DOWN


def test_a_pool_without_a_service_or_dropped_by_its_backend_is_gone():
    known = _stored(_first([_report(), _report("ctl@ebs#other")], [_service()]))
    changes = storage_changes(known, [_report()], [_service()], {}, T1)
    assert _stored(changes)["ctl@ebs#other"].state is PoolState.GONE
    assert "no longer reports this pool" in _stored(changes)["ctl@ebs#other"].state_reason
    no_service = storage_changes(known, [], [], {}, T1)
    assert {p.state for p in no_service.pools} == {PoolState.GONE}


def test_a_missing_pool_of_a_service_up_whose_backend_reports_nothing_keeps_its_state():
    """The scheduler just restarted and has no report yet: unknown is not down."""
    known = _stored(_first([_report()], [_service()]))
    changes = storage_changes(known, [], [_service()], {}, T1)
    assert changes.transitions == ()
    assert changes.unjudged == ("ctl@ebs#ebs",)
    assert _stored(changes)["ctl@ebs#ebs"] == known["ctl@ebs#ebs"]


def test_a_disabled_service_is_shown_but_its_pool_stays_up():
    changes = _first([_report()], [_service(enabled=False)])
    pool = _stored(changes)["ctl@ebs#ebs"]
    assert pool.state is PoolState.UP and pool.enabled is False


def test_an_unchanged_pool_keeps_its_state_since_and_raises_nothing():
    known = _stored(_first([_report()], [_service()]))
    changes = storage_changes(known, [_report(free=10.0)], [_service()], {}, T1)
    assert changes.transitions == ()
    assert _stored(changes)["ctl@ebs#ebs"].state_since == T0
    assert _stored(changes)["ctl@ebs#ebs"].reported_at == T1



def test_a_pool_gone_longer_than_the_retention_is_forgotten_and_back_if_it_returns():
    week = timedelta(days=7)
    known = _stored(_first([_report()], [_service()]))
    gone = storage_changes(known, [], [], {}, T1, week)
    assert _stored(gone)["ctl@ebs#ebs"].state is PoolState.GONE and gone.forgotten == ()
    kept = storage_changes(_stored(gone), [], [], {}, T1 + week - timedelta(seconds=1), week)
    assert kept.forgotten == () and kept.transitions == ()
    later = storage_changes(_stored(gone), [], [], {}, T1 + week, week)
    assert later.pools == () and [p.name for p in later.forgotten] == ["ctl@ebs#ebs"]
    assert storage_changes(_stored(gone), [], [], {}, T1 + 52 * week).forgotten == ()  # kept
    back = storage_changes({}, [_report()], [_service()], {}, T1 + 2 * week, week)
    assert [(t.before, t.after) for t in back.transitions] == [(None, PoolState.UP)]


def test_a_down_pool_is_never_forgotten():
    known = _stored(_first([_report()], [_service()]))
    down = storage_changes(known, [], [_service(up=False)], {}, T1, timedelta(days=7))
    months = storage_changes(_stored(down), [], [_service(up=False)], {},
                             T1 + timedelta(days=90), timedelta(days=7))
    assert months.forgotten == () and _stored(months)["ctl@ebs#ebs"].state is PoolState.DOWN
