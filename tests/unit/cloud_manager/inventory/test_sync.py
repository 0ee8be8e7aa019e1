"""What a sync repairs, what it leaves alone, and the capacity, freshness and reserve rules."""

from datetime import datetime, timedelta

from cloud_manager.inventory.capacity import free, instance_sums, load
from cloud_manager.inventory.freshness import freshness
from cloud_manager.inventory.reserve import HostView, free_since, to_reserve
from cloud_manager.inventory.sync import sync_changes
from cloud_manager.model.inventory import HostRecord, InstanceRecord, Resource

T0 = datetime(2026, 12, 1, 12, 0, 0)


def inst(uid, host, at=0, ram=512, **kw):
    return InstanceRecord(id=uid, name=uid, host=host, state="active", ram_mb=ram, vcpus=1,
                          disk_gb=1, changed_at=T0 + timedelta(seconds=at), **kw)


def host(name, at=0, enabled=True, **kw):
    return HostRecord(hostname=name, hypervisor_hostname=f"{name}.example.org",
                      enabled=enabled, forced_down=False, disabled_reason=None,
                      changed_at=T0 + timedelta(seconds=at), **kw)


def test_a_first_fill_writes_everything_and_repairs_nothing():
    changes = sync_changes({}, {"a": inst("a", "c1")}, {}, {"c1": host("c1")}, T0)
    assert [r.id for r in changes.instances] == ["a"] and changes.repairs == ()


def test_what_the_listener_missed_is_repaired_and_named():
    stored = {"a": inst("a", "c1"), "gone": inst("gone", "c2"), "same": inst("same", "c2")}
    live = {"a": inst("a", "c3", at=60), "new": inst("new", "c1", at=60),
            "same": inst("same", "c2", at=60)}
    changes = sync_changes(stored, live, {"c1": host("c1")}, {"c1": host("c1", at=60)},
                           T0 + timedelta(seconds=60))
    assert sorted(r.id for r in changes.instances) == ["a", "new"]
    assert changes.removed == ("gone",)
    kinds = sorted((r.kind, r.what, r.host) for r in changes.repairs)
    assert kinds == [("added", "new", "c1"), ("moved", "a", "c3"), ("removed", "gone", "c2")]


def test_a_notification_newer_than_the_sync_read_is_kept():
    stored = {"a": inst("a", "c2", at=70)}  # moved after the sync read at 60
    changes = sync_changes(stored, {"a": inst("a", "c1", at=60)}, {}, {},
                           T0 + timedelta(seconds=60))
    assert changes.instances == () and changes.removed == () and changes.repairs == ()
    created = {"b": inst("b", "c1", at=70)}  # created after the read: not in the live list
    assert sync_changes(created, {}, {}, {}, T0 + timedelta(seconds=60)).removed == ()


def test_a_deletion_the_listener_saw_is_confirmed_without_a_repair():
    stored = {"a": inst("a", None, deleted=True)}
    changes = sync_changes(stored, {}, {}, {}, T0 + timedelta(seconds=60))
    assert changes.removed == ("a",) and changes.repairs == ()


def test_a_service_state_the_listener_missed_is_repaired():
    changes = sync_changes({}, {}, {"c1": host("c1")}, {"c1": host("c1", 60, enabled=False)},
                           T0 + timedelta(seconds=60))
    assert [r.kind for r in changes.repairs] == ["changed"]
    assert changes.hosts[0].enabled is False


def test_free_capacity_is_the_safe_side_of_placement_and_the_instances():
    record = host("c1", resources={
        "MEMORY_MB": Resource(total=8192, reserved=512, allocation_ratio=1.5, used=1024),
        "VCPU": Resource(total=4, allocation_ratio=16.0, used=2)})
    # One instance created since the sync (not in Placement's usage yet) counts at once.
    held = instance_sums([inst("a", "c1", ram=1024), inst("b", "c1", ram=2048)])["c1"]
    room = free(record, held)
    assert room["MEMORY_MB"] == int((8192 - 512) * 1.5) - 3072
    assert room["VCPU"] == 64 - 2
    # One deleted since the sync is freed only by the next sync.
    assert free(record, {"MEMORY_MB": 0})["MEMORY_MB"] == int((8192 - 512) * 1.5) - 1024


def test_a_hosts_load_is_what_its_instances_hold_now_not_placements_figure_at_the_sync():
    record = host("c1", resources={"MEMORY_MB": Resource(total=8192, used=6144),
                                   "VCPU": Resource(total=4, used=3)})
    # Two instances live-migrated away since the sync: Placement's 6144 would still count them.
    held = instance_sums([inst("a", "c1", ram=2048)])["c1"]
    assert load(record, held)["MEMORY_MB"] == 2048
    assert load(record, None) == {"MEMORY_MB": 0, "VCPU": 0}
    assert free(record, held)["MEMORY_MB"] == 8192 - 6144  # room stays on the safe side


def test_the_inventory_is_stale_after_three_sync_intervals_or_when_empty():
    assert freshness(T0, 10, T0 + timedelta(seconds=170), 60).usable
    assert not freshness(T0, 10, T0 + timedelta(seconds=181), 60).usable
    assert not freshness(None, 0, T0, 60).usable
    assert not freshness(T0, 0, T0, 60).usable
    assert not freshness(T0, 10, T0, 60, enabled=False).usable


def view(name, instances=0, since=0, **kw):
    values = {"up": True, "enabled": True, "reserve": False, "maintenance": False,
              "busy": False} | kw
    return HostView(name, instances, None if since is None else T0 + timedelta(seconds=since),
                    **values)


def test_a_host_free_for_reserve_interval_joins_the_reserve_and_one_stays_in_service():
    now = T0 + timedelta(seconds=120)
    hosts = {"c1": view("c1", since=0), "c2": view("c2", since=100), "c3": view("c3", 5, None)}
    assert [h for h, _ in to_reserve(hosts, now, 60)] == ["c1"]
    # Everything free: all but one go.
    idle = {f"c{i}": view(f"c{i}", since=0) for i in range(1, 4)}
    assert [h for h, _ in to_reserve(idle, now, 60)] == ["c1", "c2"]


def test_only_an_up_enabled_idle_host_in_service_qualifies():
    now = T0 + timedelta(seconds=120)
    for blocked in ({"maintenance": True}, {"busy": True}, {"up": False}, {"enabled": False},
                    {"reserve": True}):
        hosts = {"c1": view("c1", **blocked), "c2": view("c2", 3, None),
                 "c3": view("c3", 3, None)}
        assert to_reserve(hosts, now, 60) == [], blocked


def test_free_since_starts_when_the_last_instance_left():
    assert free_since(None, 0, T0) == T0
    assert free_since(T0, 0, T0 + timedelta(seconds=9)) == T0
    assert free_since(T0, 2, T0 + timedelta(seconds=9)) is None
