"""Invariants of the balancing planner over generated aggregates, checked from the model and
the plan alone (not through the planner's own bookkeeping)."""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from cloud_manager.balancing import plan_balancing
from cloud_manager.balancing.load import mean_load
from cloud_manager.model.cloud import Aggregate, CloudModel, ServerGroup

from .builders import host, instance

FLAVORS = [(512, 1, 5), (1024, 1, 10), (2048, 2, 20), (4096, 2, 40), (8192, 4, 80),
           (16384, 8, 160)]
LEFT_OUT = st.sampled_from([{}, {}, {}, {"enabled": False}, {"up": False}, {"reserve": True},
                            {"excluded": "HA incident"}])


@st.composite
def aggregates(draw):
    host_count = draw(st.integers(2, 7))
    names = [f"h{n}" for n in range(host_count)]
    instances = []
    for n in range(draw(st.integers(0, 40))):
        ram, vcpus, disk = draw(st.sampled_from(FLAVORS))
        stuck = draw(st.sampled_from(["", "", "", "", "status SHUTOFF"]))
        instances.append(instance(f"i{n}", draw(st.sampled_from(names)), ram, vcpus, disk,
                                  not_movable=stuck))
    hosts = []
    for name in names:
        mine = [i for i in instances if i.host == name]
        used = sum(i.ram_mb for i in mine)
        ram = draw(st.integers(max(used, 1024), max(used, 1024) * 3))
        hosts.append(host(name, ram, mine, vcpus=draw(st.integers(8, 64)) + sum(
            i.vcpus for i in mine), disk=draw(st.integers(100, 600)) + sum(
            i.disk_gb for i in mine), **draw(LEFT_OUT)))
    ids = [i.id for i in instances]
    groups = []
    for g in range(draw(st.integers(0, 3))):
        members = draw(st.lists(st.sampled_from(ids), max_size=4, unique=True)) if ids else []
        members = [m for m in members if all(m not in x.members for x in groups)]
        policy = draw(st.sampled_from(["anti-affinity", "soft-anti-affinity", "affinity"]))
        groups.append(ServerGroup(f"g{g}", f"group{g}", policy, tuple(members)))
    return CloudModel(hosts=tuple(hosts), instances=tuple(instances),
                      aggregates=(Aggregate("agg", tuple(names), {"balancing": "yes"}),),
                      server_groups=tuple(groups))


@given(aggregates(), st.sampled_from([0.0, 0.05, 0.1, 0.3]), st.integers(0, 20))
@settings(max_examples=300, deadline=None)
def test_no_plan_overfills_breaks_a_group_or_moves_a_host_away_from_the_mean(cloud, approx, cap):
    plan = plan_balancing(cloud, "agg", approx, cap)
    actions = plan.actions
    assert len(actions) <= cap
    hosts = {h.name: h for h in cloud.hosts}
    eligible = {n for n, h in hosts.items() if h.up and h.enabled and not h.reserve
                and not h.excluded}
    where = {i.id: i.host for i in cloud.instances}
    gained: Counter = Counter()
    moved_ids = [a.instance.id for a in actions]
    assert len(moved_ids) == len(set(moved_ids))  # each instance moves once
    for action in actions:
        i = action.instance
        assert i.host in eligible and action.target_host in eligible
        assert not i.not_movable
        gained[(action.target_host, "ram")] += i.ram_mb
        gained[(action.target_host, "vcpus")] += i.vcpus
        gained[(action.target_host, "disk")] += i.disk_gb
        where[i.id] = action.target_host
    # Never overfilled: what a host gains fits in its free capacity (sources only lose).
    for name, h in hosts.items():
        assert gained[(name, "ram")] <= max(h.free_ram_mb, 0)
        assert gained[(name, "vcpus")] <= max(h.free_vcpus, 0)
        assert gained[(name, "disk")] <= max(h.free_disk_gb, 0)
    # Server groups: affinity members never move; anti-affinity members never meet anew.
    for group in cloud.server_groups:
        if group.policy == "affinity":
            assert not set(group.members) & set(moved_ids)
        else:
            before = Counter(i.host for i in cloud.instances if i.id in group.members)
            after = Counter(where[m] for m in group.members)
            for name, count in after.items():
                assert count <= max(1, before[name])
    # No host ends further from the mean than it started.
    chosen = [hosts[n] for n in eligible]
    mean = mean_load((h.used_ram_mb, h.ram_mb) for h in chosen)
    delta = Counter()
    for action in actions:
        delta[action.instance.host] -= action.instance.ram_mb
        delta[action.target_host] += action.instance.ram_mb
    for h in chosen:
        before = h.used_ram_mb / h.ram_mb
        after = (h.used_ram_mb + delta[h.name]) / h.ram_mb
        assert abs(after - mean) <= abs(before - mean) + 1e-9
        # A target never becomes loaded.
        if delta[h.name] > 0:
            assert after <= mean + approx + 1e-9
