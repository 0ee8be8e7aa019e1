"""Invariants of the planner and the state machine over generated inputs."""

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from cloud_manager.ha.evacuation_plan import Instance, Strategy, TargetHost, plan_evacuation
from cloud_manager.ha.node_state import NodeRecord, NodeState, Probes, TrackerPolicy, observe

AZS = st.sampled_from([None, "az1", "az2"])
FAILED_HOSTS = ["dead0", "dead1", "dead2"]
# A few shapes, as flavors make them, so that later instances meet hosts earlier ones filled;
# each shape is bound by a different resource.
FLAVORS = st.sampled_from(
    [
        {"ram_mb": 0, "vcpus": 0, "disk_gb": 0},
        {"ram_mb": 1024, "vcpus": 1, "disk_gb": 10},
        {"ram_mb": 2048, "vcpus": 6, "disk_gb": 20},
        {"ram_mb": 4096, "vcpus": 2, "disk_gb": 80},
        {"ram_mb": 8192, "vcpus": 4, "disk_gb": 40},
    ]
) | st.fixed_dictionaries(
    {"ram_mb": st.integers(0, 8192), "vcpus": st.integers(0, 8), "disk_gb": st.integers(0, 80)}
)


@st.composite
def target_hosts(draw):
    count = draw(st.integers(0, 8))
    return [
        TargetHost(
            name=f"t{n}",
            free_ram_mb=draw(st.integers(-1024, 16384)),
            free_vcpus=draw(st.integers(0, 16)),
            free_disk_gb=draw(st.integers(0, 200)),
            reserve=draw(st.booleans()),
            enabled=draw(st.booleans()),
            up=draw(st.booleans()),
            az=draw(AZS),
        )
        for n in range(count)
    ] + [
        TargetHost(name, 65536, 64, 1000, reserve=draw(st.booleans()), az=draw(AZS))
        for name in FAILED_HOSTS
    ]


@st.composite
def instance_lists(draw):
    count = draw(st.integers(0, 40))
    return [
        Instance(
            id=f"i{n}",
            name=f"vm{n}",
            host=draw(st.sampled_from([*FAILED_HOSTS, "alive0"])),
            priority=draw(st.integers(0, 10)),
            **draw(FLAVORS),
            az=draw(AZS),
        )
        for n in range(count)
    ]


plan_inputs = st.tuples(instance_lists(), target_hosts(), st.sampled_from(list(Strategy)))


def placed(plan):
    return [p for group in plan.groups for p in group.placements]


@settings(max_examples=300)
@given(plan_inputs)
def test_plan_never_overfills_a_host(inputs):
    instances, hosts, strategy = inputs
    plan = plan_evacuation(instances, hosts, strategy, set(FAILED_HOSTS))
    by_name = {h.name: h for h in hosts}
    used = Counter()
    for placement in placed(plan):
        used[placement.target_host, "ram"] += placement.instance.ram_mb
        used[placement.target_host, "vcpus"] += placement.instance.vcpus
        used[placement.target_host, "disk"] += placement.instance.disk_gb
    for (name, resource), amount in used.items():
        host = by_name[name]
        free = {"ram": host.free_ram_mb, "vcpus": host.free_vcpus, "disk": host.free_disk_gb}
        assert amount <= free[resource], (name, resource)


@settings(max_examples=300)
@given(plan_inputs)
def test_every_instance_is_accounted_for_exactly_once(inputs):
    instances, hosts, strategy = inputs
    plan = plan_evacuation(instances, hosts, strategy, set(FAILED_HOSTS))
    placed_ids = [p.instance.id for p in placed(plan)]
    unplaced_ids = [u.instance.id for u in plan.unplaced]
    skipped_ids = [s.instance.id for s in plan.skipped]
    assert len(placed_ids) == len(set(placed_ids))
    assert sorted(placed_ids + unplaced_ids + skipped_ids) == sorted(i.id for i in instances)
    evacuable = {i.id for i in instances if i.priority > 0 and i.host in FAILED_HOSTS}
    assert set(placed_ids) | set(unplaced_ids) == evacuable
    assert all(u.reason.startswith("needs ") for u in plan.unplaced)


@settings(max_examples=300)
@given(plan_inputs)
def test_priority_zero_is_never_placed_and_groups_strictly_descend(inputs):
    instances, hosts, strategy = inputs
    plan = plan_evacuation(instances, hosts, strategy, set(FAILED_HOSTS))
    assert all(p.instance.priority > 0 for p in placed(plan))
    priorities = [group.priority for group in plan.groups]
    assert all(a > b for a, b in zip(priorities, priorities[1:], strict=False))
    for group in plan.groups:
        assert group.placements
        assert all(p.instance.priority == group.priority for p in group.placements)


@settings(max_examples=300)
@given(plan_inputs)
def test_targets_are_eligible_for_the_strategy(inputs):
    instances, hosts, strategy = inputs
    plan = plan_evacuation(instances, hosts, strategy, set(FAILED_HOSTS))
    by_name = {h.name: h for h in hosts}
    for placement in placed(plan):
        host = by_name[placement.target_host]
        assert host.name not in FAILED_HOSTS
        assert host.up
        assert host.reserve == (placement.pool == "reserve")
        if strategy is Strategy.RESERVED_HOST:
            assert host.reserve
        if strategy is Strategy.AUTO:
            assert not host.reserve
        if not host.reserve:
            assert host.enabled
        if placement.instance.az is not None:
            assert host.az == placement.instance.az
    used_reserve = {p.target_host for p in placed(plan) if p.pool == "reserve"}
    assert sorted(plan.reserve_hosts_used) == sorted(used_reserve)


CHECKS = {
    "alive": Probes(service_up=True),
    "dead": Probes(service_up=False),
    "unknown": Probes(service_up=None),
}


@settings(max_examples=500)
@given(
    st.integers(1, 5),
    st.lists(st.sampled_from(sorted(CHECKS)), max_size=30),
)
def test_down_only_after_mutex_consecutive_dead_checks(mutex, checks):
    policy = TrackerPolicy(mutex=mutex)
    record = NodeRecord("compute1")
    dead_streak = 0
    for step, check in enumerate(checks):
        dead_streak = dead_streak + 1 if check == "dead" else 0
        was_detecting = record.state in (NodeState.UP, NodeState.SUSPECT)
        record, transition = observe(record, CHECKS[check], policy, float(step))
        if transition is not None and transition.to_state is NodeState.DOWN:
            assert dead_streak >= mutex
        if was_detecting:
            assert (record.state is NodeState.DOWN) == (dead_streak >= mutex)
