import pytest

from cloud_manager.ha.evacuation_plan import Instance, Strategy, TargetHost, plan_evacuation

FAILED = {"dead1"}


def vm(id, priority=5, ram=1024, vcpus=1, disk=10, az=None, host="dead1"):
    return Instance(id, f"vm-{id}", host, priority, ram, vcpus, disk, az)


def target(name, ram=8192, vcpus=8, disk=100, reserve=False, enabled=True, up=True, az=None):
    return TargetHost(name, ram, vcpus, disk, reserve, enabled, up, az)


def placements(plan):
    return {p.instance.id: p.target_host for g in plan.groups for p in g.placements}


def test_groups_are_ordered_by_priority_highest_first():
    instances = [vm("a", priority=2), vm("b", priority=10), vm("c", priority=5)]
    plan = plan_evacuation(instances, [target("t1")], Strategy.AUTO, FAILED)
    assert [g.priority for g in plan.groups] == [10, 5, 2]


def test_larger_instances_are_placed_first_within_a_group():
    instances = [
        vm("small", ram=512),
        vm("big-b", ram=4096, vcpus=2),
        vm("big-a", ram=4096, vcpus=2),
        vm("big-more-cpu", ram=4096, vcpus=4),
    ]
    plan = plan_evacuation(instances, [target("t1", ram=65536, vcpus=64)], Strategy.AUTO, FAILED)
    order = [p.instance.id for p in plan.groups[0].placements]
    assert order == ["big-more-cpu", "big-a", "big-b", "small"]


def test_priority_zero_is_skipped_with_reason():
    plan = plan_evacuation([vm("a", priority=0)], [target("t1")], Strategy.AUTO, FAILED)
    assert plan.groups == []
    assert [(s.instance.id, s.reason) for s in plan.skipped] == [
        ("a", "recovery priority 0: never evacuated")
    ]


def test_instance_of_a_host_not_failed_is_skipped():
    plan = plan_evacuation([vm("a", host="alive1")], [target("t1")], Strategy.AUTO, FAILED)
    assert plan.groups == []
    assert "alive1 is not a failed host" in plan.skipped[0].reason


def test_most_free_ram_host_is_chosen():
    hosts = [target("t1", ram=4096), target("t2", ram=16384), target("t3", ram=8192)]
    plan = plan_evacuation([vm("a")], hosts, Strategy.AUTO, FAILED)
    assert placements(plan) == {"a": "t2"}


def test_placements_spread_as_free_ram_changes():
    hosts = [target("t1", ram=8192), target("t2", ram=7168)]
    instances = [vm("a", ram=2048), vm("b", ram=2048)]
    plan = plan_evacuation(instances, hosts, Strategy.AUTO, FAILED)
    assert sorted(placements(plan).values()) == ["t1", "t2"]


def test_host_with_most_ram_but_no_vcpu_is_passed_over():
    hosts = [target("t1", ram=65536, vcpus=0), target("t2", ram=4096, vcpus=4)]
    plan = plan_evacuation([vm("a", vcpus=2)], hosts, Strategy.AUTO, FAILED)
    assert placements(plan) == {"a": "t2"}


def test_same_flavor_stops_fitting_once_vcpus_run_out():
    hosts = [target("t1", ram=65536, vcpus=4), target("t2", ram=4096, vcpus=4)]
    plan = plan_evacuation([vm("a", vcpus=4), vm("b", vcpus=4)], hosts, Strategy.AUTO, FAILED)
    assert placements(plan) == {"a": "t1", "b": "t2"}


def test_same_flavor_stops_fitting_once_disk_runs_out():
    hosts = [target("t1", ram=65536, disk=40), target("t2", ram=4096, disk=40)]
    plan = plan_evacuation([vm("a", disk=40), vm("b", disk=40)], hosts, Strategy.AUTO, FAILED)
    assert placements(plan) == {"a": "t1", "b": "t2"}


def test_host_without_disk_is_passed_over():
    hosts = [target("t1", ram=65536, disk=5), target("t2", ram=4096, disk=50)]
    plan = plan_evacuation([vm("a", disk=20)], hosts, Strategy.AUTO, FAILED)
    assert placements(plan) == {"a": "t2"}


def test_capacity_is_consumed_and_never_overfilled():
    instances = [vm(str(n), ram=3000) for n in range(3)]
    plan = plan_evacuation(instances, [target("t1", ram=8192)], Strategy.AUTO, FAILED)
    assert len(placements(plan)) == 2
    assert len(plan.unplaced) == 1


def test_unplaced_reason_names_need_and_largest_free_host():
    hosts = [target("compute3", ram=2048, vcpus=8, disk=100), target("compute1", ram=1024)]
    plan = plan_evacuation([vm("a", ram=4096, vcpus=2, disk=40)], hosts, Strategy.AUTO, FAILED)
    assert plan.unplaced[0].reason == (
        "needs 4096 MB RAM, 2 vCPU, 40 GB disk; "
        "largest free: 2048 MB RAM, 8 vCPU, 100 GB disk on compute3"
    )


def test_unplaced_reason_when_no_host_is_eligible():
    plan = plan_evacuation([vm("a", az="az1")], [target("t1", up=False)], Strategy.AUTO, FAILED)
    assert plan.unplaced[0].reason.endswith("no eligible target host in the auto pool in az az1")


def test_failed_hosts_are_never_targets():
    hosts = [target("dead1", ram=65536), target("t1", ram=2048)]
    plan = plan_evacuation([vm("a")], hosts, Strategy.AUTO, FAILED)
    assert placements(plan) == {"a": "t1"}


def test_availability_zone_is_respected():
    hosts = [target("t1", ram=65536, az="az1"), target("t2", ram=2048, az="az2")]
    plan = plan_evacuation([vm("a", az="az2"), vm("b")], hosts, Strategy.AUTO, FAILED)
    assert placements(plan) == {"a": "t2", "b": "t1"}


def test_instance_with_az_never_lands_on_host_without_az():
    plan = plan_evacuation([vm("a", az="az1")], [target("t1")], Strategy.AUTO, FAILED)
    assert placements(plan) == {}
    assert len(plan.unplaced) == 1


def test_auto_uses_enabled_up_non_reserve_hosts_only():
    hosts = [
        target("disabled", ram=65536, enabled=False),
        target("down", ram=65536, up=False),
        target("reserve", ram=65536, reserve=True),
        target("ok", ram=2048),
    ]
    plan = plan_evacuation([vm("a")], hosts, Strategy.AUTO, FAILED)
    assert placements(plan) == {"a": "ok"}
    assert plan.reserve_hosts_used == []


def test_reserved_host_ignores_enabled_but_not_up():
    hosts = [
        target("auto", ram=65536),
        target("r-down", ram=65536, reserve=True, up=False),
        target("r-disabled", ram=2048, reserve=True, enabled=False),
    ]
    plan = plan_evacuation([vm("a")], hosts, Strategy.RESERVED_HOST, FAILED)
    assert placements(plan) == {"a": "r-disabled"}
    assert plan.groups[0].placements[0].pool == "reserve"
    assert plan.reserve_hosts_used == ["r-disabled"]


def test_auto_priority_overflows_to_reserve_hosts():
    hosts = [target("auto", ram=2048), target("reserve", ram=8192, reserve=True)]
    plan = plan_evacuation(
        [vm("a", ram=2048), vm("b", ram=2048)], hosts, Strategy.AUTO_PRIORITY, FAILED
    )
    assert {p.instance.id: p.pool for g in plan.groups for p in g.placements} == {
        "a": "auto",
        "b": "reserve",
    }
    assert plan.reserve_hosts_used == ["reserve"]


def test_rh_priority_uses_reserve_hosts_first_then_auto():
    hosts = [target("auto", ram=65536), target("reserve", ram=2048, reserve=True)]
    plan = plan_evacuation(
        [vm("a", ram=2048), vm("b", ram=2048)], hosts, Strategy.RH_PRIORITY, FAILED
    )
    assert placements(plan) == {"a": "reserve", "b": "auto"}


def test_reserve_hosts_used_is_in_order_of_first_use_without_duplicates():
    hosts = [target("r1", ram=4096, reserve=True), target("r2", ram=3072, reserve=True)]
    instances = [vm("a", ram=1024), vm("b", ram=1024), vm("c", ram=1024)]
    plan = plan_evacuation(instances, hosts, Strategy.RESERVED_HOST, FAILED)
    assert plan.reserve_hosts_used == ["r1", "r2"]


def test_empty_groups_are_left_out():
    plan = plan_evacuation(
        [vm("a", priority=9, ram=99999), vm("b", priority=3)], [target("t1")], Strategy.AUTO, FAILED
    )
    assert [g.priority for g in plan.groups] == [3]
    assert [u.instance.id for u in plan.unplaced] == ["a"]


def test_result_does_not_depend_on_host_order():
    hosts = [target(f"t{n}", ram=4096) for n in range(5)]
    instances = [vm(str(n), ram=1024) for n in range(12)]
    forward = plan_evacuation(instances, hosts, Strategy.AUTO, FAILED)
    backward = plan_evacuation(instances, hosts[::-1], Strategy.AUTO, FAILED)
    assert placements(forward) == placements(backward)


def test_duplicate_instance_ids_are_rejected():
    with pytest.raises(ValueError, match="listed twice"):
        plan_evacuation([vm("a"), vm("a")], [target("t1")], Strategy.AUTO, FAILED)


def test_duplicate_host_names_are_rejected():
    with pytest.raises(ValueError, match="unique"):
        plan_evacuation([vm("a")], [target("t1"), target("t1")], Strategy.AUTO, FAILED)


@pytest.mark.parametrize("priority", [-1, 11])
def test_out_of_range_priority_is_rejected(priority):
    with pytest.raises(ValueError, match="outside 0-10"):
        plan_evacuation([vm("a", priority=priority)], [target("t1")], Strategy.AUTO, FAILED)


def test_inputs_are_not_mutated():
    hosts = [target("t1", ram=4096)]
    plan_evacuation([vm("a", ram=4096)], hosts, Strategy.AUTO, FAILED)
    assert hosts[0].free_ram_mb == 4096
