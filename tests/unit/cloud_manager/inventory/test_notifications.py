"""What Nova's notifications (in Nova's own payload format) change in the inventory."""

from datetime import datetime, timedelta

from cloud_manager.inventory.notifications import (
    Notification,
    event_message,
    instance_of,
    newest,
    parse_timestamp,
    service_of,
)
from tools.nova_notifications import instance_payload, service_payload

T0 = datetime(2026, 12, 1, 12, 0, 0)


def note(event_type, payload, seconds=0):
    return Notification(event_type, payload, T0 + timedelta(seconds=seconds))


def test_a_created_instance_is_on_its_host_with_its_flavor_and_priority():
    record = instance_of(note("instance.create.end", instance_payload(
        "u1", "c1", ram_mb=2048, vcpus=2, disk_gb=20, node="c1.example.org",
        metadata={"aos:recovery_priority": "9"})))
    assert (record.host, record.node, record.state) == ("c1", "c1.example.org", "active")
    assert (record.ram_mb, record.vcpus, record.disk_gb) == (2048, 2, 20)
    assert record.metadata == {"aos:recovery_priority": "9"}
    assert not record.deleted


def test_a_deleted_instance_leaves_its_host():
    record = instance_of(note("instance.delete.end",
                              instance_payload("u1", "c1", state="deleted")))
    assert record.deleted and record.host is None and record.state == "deleted"


def test_a_shelved_offloaded_instance_is_on_no_hypervisor():
    record = instance_of(note("instance.shelve_offload.end",
                              instance_payload("u1", None, state="shelved_offloaded")))
    assert record.deleted and record.host is None


def test_only_nova_compute_services_count():
    assert service_of(note("service.update", service_payload("c1", disabled=True,
                                                             forced_down=True))).forced_down
    other = service_payload("c1")
    other["nova_object.data"]["binary"] = "nova-scheduler"
    assert service_of(note("service.update", other)) is None
    assert instance_of(note("service.update", other)) is None
    assert service_of(note("instance.create.end", instance_payload("u1", "c1"))) is None


def test_the_newest_word_of_a_batch_wins_whatever_the_order():
    moved = note("instance.live_migration_post_dest.end", instance_payload("u1", "c2"), 5)
    created = note("instance.create.end", instance_payload("u1", "c1"), 1)
    latest = newest([instance_of(moved), instance_of(created)])
    assert latest["u1"].host == "c2"


def test_a_live_migrations_source_does_not_pull_the_instance_back():
    """Nova's source sends live_migration_post.end after the destination's post_dest.end,
    from its own stale copy (host = source)."""
    arrived = note("instance.live_migration_post_dest.end", instance_payload("u1", "c2"), 5)
    stale = note("instance.live_migration_post.end",
                 instance_payload("u1", "c1", task_state="migrating"), 6)
    assert instance_of(stale) is None
    assert newest(filter(None, map(instance_of, [arrived, stale])))["u1"].host == "c2"


def test_evacuations_and_service_changes_are_worth_a_node_event():
    evacuated = note("instance.evacuate", instance_payload("u1", "c3"))
    assert event_message(evacuated, instance_of(evacuated), None) == (
        "c3", "nova: instance u1 evacuated (now on c3)")
    disabled = note("service.update", service_payload("c2", disabled=True,
                                                      disabled_reason="aos: reserve node"))
    assert event_message(disabled, None, service_of(disabled)) == (
        "c2", "nova: nova-compute disabled (aos: reserve node)")
    created = note("instance.create.end", instance_payload("u1", "c1"))
    assert event_message(created, instance_of(created), None) is None


def test_oslo_timestamps_parse_and_a_missing_one_is_now():
    assert parse_timestamp("2026-12-01 12:00:00.250000", T0) == T0 + timedelta(seconds=0.25)
    assert parse_timestamp(None, T0) == T0
    assert parse_timestamp("garbage", T0) == T0
