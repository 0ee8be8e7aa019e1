"""node_sync and the listener keep the inventory; planners read it; one controller acts.

A real database (SQLite, migrated) and the in-memory Nova adapter; notifications in Nova's
own payload format go through the listener's batch endpoint.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from aos import periodic
from aos.coordination import Leadership
from cloud_manager import listener, node_sync
from cloud_manager import runtime as cm_runtime
from cloud_manager.cmd import LEADER_LOCK
from cloud_manager.db import api as db_api
from cloud_manager.db.models import utcnow
from cloud_manager.execution.inventory import read_evacuation_inputs
from cloud_manager.heartbeat import Heartbeats
from cloud_manager.model.task_state import TaskKind
from cloud_manager.nova import NovaError
from tests.unit.cloud_manager.conftest import HOSTS
from tools.nova_notifications import instance_payload, message, service_payload


@pytest.fixture
def runtime(make_runtime):
    runtime = make_runtime()
    with runtime.transaction() as session:
        db_api.ensure_nodes(session, HOSTS)
    for i in range(3):
        runtime.nova.add_server(f"s{i}", "c1", priority=7, ram_mb=1024)
    return runtime


def _deliver(runtime, *messages) -> None:
    """What the listener's batch endpoint does with messages off the bus."""
    listener.NovaNotifications(runtime).info(list(messages))


def _stamp(seconds: float = 0.0) -> str:
    return str(utcnow() + timedelta(seconds=seconds))


def _instances(runtime, host=None):
    with runtime.transaction() as session:
        return db_api.inventory_instances(session, host=host)


def _events(runtime, kind):
    with runtime.transaction() as session:
        return [e.message for e in db_api.events(session, kind=kind)]


def test_a_sync_fills_the_inventory_with_hosts_capacity_and_instances(runtime):
    runtime.nova.node_names["c2"] = "c2.example.org"
    result = node_sync.NodeSync(runtime).sync()
    assert (result.hosts, result.instances, result.repairs) == (4, 3, ())
    with runtime.transaction() as session:
        hosts = db_api.inventory_hosts(session)
        assert db_api.last_sync(session).summary == "nothing to repair"
    assert hosts["c2"].hypervisor_hostname == "c2.example.org"
    assert hosts["c2"].resources["MEMORY_MB"].total == 8192
    assert hosts["c1"].resources["MEMORY_MB"].used == 3072
    assert sorted(_instances(runtime, "c1")) == ["s0", "s1", "s2"]
    assert _instances(runtime)["s0"].metadata == {"aos:recovery_priority": "7"}


def test_the_listener_keeps_it_current_and_a_sync_repairs_what_it_missed(runtime):
    sync = node_sync.NodeSync(runtime)
    sync.sync()
    # Between syncs, through the listener: a boot, a live migration, a deletion.
    _deliver(runtime,
             message("instance.create.end", instance_payload("new", "c2", ram_mb=2048, name="new"),
                     _stamp()),
             message("instance.live_migration_post_dest.end",
                     instance_payload("s0", "c3", ram_mb=1024, name="s0",
                                      metadata={"aos:recovery_priority": "7"}), _stamp()),
             message("instance.delete.end", instance_payload("s1", "c1", state="deleted"),
                     _stamp()))
    assert sorted(_instances(runtime, "c1")) == ["s2"]
    assert sorted(_instances(runtime, "c2")) == ["new"] and list(_instances(runtime, "c3")) == [
        "s0"]
    # Nova agrees (the listener saw it all): the next sync repairs nothing.
    runtime.nova.add_server("new", "c2", ram_mb=2048)
    runtime.nova.move_server("s0", "c3")
    runtime.nova.delete_server("s1")
    assert sync.sync().repairs == ()
    # The listener is stopped: Nova changes, nothing is delivered; the sync repairs it all.
    runtime.nova.move_server("s2", "c4")
    runtime.nova.add_server("missed", "c1")
    runtime.nova.delete_server("new")
    runtime.nova.set_enabled("c3", False, "maintenance")
    repairs = sync.sync().repairs
    assert sorted((r.kind, r.what) for r in repairs) == [
        ("added", "missed"), ("changed", "c3"), ("moved", "s2"), ("removed", "new")]
    assert sorted(_instances(runtime, "c1")) == ["missed"]
    assert list(_instances(runtime, "c4")) == ["s2"]
    assert "node_sync repaired: instance s2 is on c4, not c1" in _events(runtime, "sync")


def test_a_service_update_reaches_the_inventory_and_the_node_history(runtime):
    node_sync.NodeSync(runtime).sync()
    _deliver(runtime, message("service.update",
                              service_payload("c2", disabled=True, forced_down=True,
                                              disabled_reason="aos: fenced"), _stamp()))
    with runtime.transaction() as session:
        host = db_api.inventory_host(session, "c2")
    assert (host.enabled, host.forced_down) == (False, True)
    assert "nova: nova-compute disabled, forced down (aos: fenced)" in _events(runtime, "nova")


def _task(runtime, host: str) -> str:
    with runtime.transaction() as session:
        return db_api.create_task(session, hostname=host, kind=TaskKind.AUTOMATIC,
                                  strategy="auto", reason="test",
                                  lease=timedelta(seconds=30)).id


def _unreachable(*_args, **_kwargs):
    raise NovaError("Placement is not answering")


def test_evacuation_planning_reads_capacity_from_a_fresh_inventory_not_placement(runtime):
    node_sync.NodeSync(runtime).sync()
    _deliver(runtime, message("instance.create.end", instance_payload("big", "c2", ram_mb=6000),
                              _stamp()))
    runtime.nova.capacities = runtime.nova.host_zones = _unreachable
    inputs = read_evacuation_inputs(runtime, _task(runtime, "c1"), Heartbeats(runtime.conf), 5,
                                    time.time)
    targets = {h.name: h for h in inputs.model.hosts}
    assert sorted(targets) == ["c2", "c3", "c4"]
    assert targets["c2"].free_ram_mb == 8192 - 6000  # the listener's boot counts already
    assert targets["c3"].free_ram_mb == 8192 and targets["c3"].az == "nova"
    # The failed host's instances come from Nova, always.
    assert sorted(i.id for i in inputs.model.instances) == ["s0", "s1", "s2"]
    assert {i.priority for i in inputs.model.instances} == {7}


def test_a_stale_or_empty_inventory_is_not_planned_from(runtime):
    task_id = _task(runtime, "c1")
    inputs = read_evacuation_inputs(runtime, task_id, Heartbeats(runtime.conf), 5, time.time)
    assert {h.name for h in inputs.model.hosts} == {"c2", "c3", "c4"}  # read live: empty
    node_sync.NodeSync(runtime, clock=lambda: time.time() - 3600).sync()
    with runtime.transaction() as session:  # finished an hour ago: stale
        db_api.last_sync(session).finished_at = utcnow() - timedelta(hours=1)
    runtime.nova.capacities = _unreachable
    with pytest.raises(NovaError):
        read_evacuation_inputs(runtime, task_id, Heartbeats(runtime.conf), 5, time.time)


class _Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def _synced_once(make_runtime, opted_in: bool):
    """c1 and c2 run an instance each, c3 and c4 none; one sync done (free since now)."""
    runtime = make_runtime(node_sync={"auto_reserve": str(opted_in).lower(),
                                      "reserve_interval": 60})
    with runtime.transaction() as session:
        db_api.ensure_nodes(session, HOSTS)
    for host in ("c1", "c2"):
        runtime.nova.add_server(f"on-{host}", host)
    clock = _Clock()
    sync = node_sync.NodeSync(runtime, clock=clock)
    assert sync.sync().reserved == ()  # free since now: not long enough
    return runtime, sync, clock


def test_a_host_free_for_reserve_interval_joins_the_reserve_pool_when_opted_in(make_runtime):
    runtime, sync, clock = _synced_once(make_runtime, opted_in=True)
    clock.now += 61
    assert sync.sync().reserved == ("c3", "c4")
    with runtime.transaction() as session:
        assert db_api.node(session, "c3").reserve
        events = [e.message for e in db_api.events(session, "c3", kind="action")]
    assert runtime.nova.services["c3"].enabled is False
    assert runtime.nova.services["c3"].disabled_reason == "aos: reserve node"
    assert events and events[0].startswith("reserve on by node_sync: free of instances for 61s")
    clock.now += 1
    assert sync.sync().repairs == ()  # the inventory knew it disabled them


def test_the_reserve_pool_is_left_alone_unless_the_operator_opted_in(make_runtime):
    runtime, sync, clock = _synced_once(make_runtime, opted_in=False)
    clock.now += 3600
    assert sync.sync().reserved == ()
    with runtime.transaction() as session:
        assert not any(n.reserve for n in db_api.nodes(session))


def test_a_host_nova_shows_busy_again_stays_in_service(make_runtime):
    runtime, sync, clock = _synced_once(make_runtime, opted_in=True)
    clock.now += 61
    runtime.nova.add_server("late", "c3")  # booted since; the listener missed it
    assert sync.fill_reserve_pool() == ["c4"]


def test_two_controllers_on_one_database_and_lock_backend_sync_once(make_runtime, tmp_path):
    """Two beats' node_sync loops, each with its own runtime and tooz member, one database
    and one coordination backend: only the lock holder syncs; when it goes, the other
    takes over."""
    first = make_runtime(coordination={"backend_url": f"file://{tmp_path}/locks"})
    second = cm_runtime.build(first.conf)
    second.__dict__["nova"] = first.nova
    a = Leadership(first.conf, LEADER_LOCK, member="controller-a")
    b = Leadership(second.conf, LEADER_LOCK, member="controller-b")
    try:
        controllers = [(node_sync.NodeSync(first, still_leader=a.is_leader), a),
                       (node_sync.NodeSync(second, still_leader=b.is_leader), b)]
        for _ in range(3):
            for sync, leadership in controllers:
                node_sync.run_forever(sync, leadership.is_leader, stopped=_once(),
                                      sleep=lambda _s: None)
        with first.transaction() as session:
            assert db_api.sync_count(session) == 3
        a.stop()  # controller a goes away: its lock is released
        for sync, leadership in controllers[1:]:
            node_sync.run_forever(sync, leadership.is_leader, stopped=_once(),
                                  sleep=lambda _s: None)
        with first.transaction() as session:
            assert db_api.sync_count(session) == 4
    finally:
        b.stop()


def _once():
    """``stopped`` of a loop that runs one round."""
    calls = []

    def stopped() -> bool:
        calls.append(1)
        return len(calls) > 1

    return stopped


def test_one_bad_notification_does_not_lose_its_batch(runtime):
    bad = instance_payload("bad", "c2")
    bad["nova_object.data"]["flavor"]["nova_object.data"]["memory_mb"] = "lots"
    _deliver(runtime,
             message("instance.create.end", instance_payload("good-1", "c2"), _stamp()),
             message("instance.create.end", bad, _stamp()),
             message("instance.create.end", instance_payload("good-2", "c2"), _stamp()))
    assert sorted(_instances(runtime, "c2")) == ["good-1", "good-2"]


class _FlakySync:
    """A sync that fails ``failures`` times, then succeeds; what the loop waits is recorded."""

    def __init__(self, failures: int, interval: float) -> None:
        self.failures, self.calls = failures, 0
        self.conf = type("Conf", (), {"sync_interval": interval})()

    def sync(self) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise RuntimeError("Nova answered 503")


def test_a_failed_sync_is_tried_again_soon_and_a_follower_syncs_once_it_leads():
    sync, waits = _FlakySync(failures=3, interval=600), []
    leading = iter([False, True, True, True, True])
    node_sync.run_forever(sync, lambda: next(leading), stopped=lambda: len(waits) >= 5,
                          sleep=waits.append, monotonic=lambda: 0.0)
    assert waits == [periodic.LEADER_POLL_S, 10.0, 20.0, 40.0, 600]
    assert sync.calls == 4
    assert periodic.retry_after_failure(30, 600) == 600
