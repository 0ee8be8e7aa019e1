"""The balancing planner: the spec's rule and worked example, and the rules beyond it."""

from __future__ import annotations

import math

import pytest

from cloud_manager.balancing import plan_balancing
from cloud_manager.balancing.hosts import AggregateLoads, UnknownAggregate
from cloud_manager.balancing.load import is_flagged, is_loaded, mean_load, ram_load
from cloud_manager.balancing.report import load_report
from cloud_manager.model.actions import ActionKind
from cloud_manager.model.cloud import ServerGroup

from .builders import instance, model


def _two_decimals(value: float) -> float:
    """The spec's figures are cut, not rounded, to two decimals (0.406 is written 0.40)."""
    return math.floor(value * 100) / 100


def test_the_specs_worked_example():
    """Two nodes of 4086 MB, 3072 MB and 256 MB occupied, approx 0.1 (spec 001, [balancing]).

    The spec writes the total as 8192 MB; with either total the figures are the spec's."""
    assert _two_decimals((3072 + 256) / 8192) == 0.40
    mean = mean_load([(3072, 4086), (256, 4086)])
    assert _two_decimals(mean) == 0.40
    assert _two_decimals(ram_load(3072, 4086)) == 0.75
    assert _two_decimals(ram_load(256, 4086)) == 0.06
    assert is_loaded(ram_load(3072, 4086), mean, 0.1)  # 0.75 > 0.40 + 0.1
    assert not is_loaded(ram_load(256, 4086), mean, 0.1)  # 0.06 < 0.40 + 0.1


def test_the_specs_example_as_a_plan_moves_the_loaded_node_only():
    cloud = model({"node1": (4086, [1024, 1024, 1024]), "node2": (4086, [256])})
    plan = plan_balancing(cloud, "agg", approx=0.1, max_migrations=10)
    assert [(a.kind, a.instance.host, a.target_host) for a in plan.actions] == [
        (ActionKind.LIVE_MIGRATE, "node1", "node2")]
    report = load_report(cloud, "agg", 0.1, plan)
    after = {h.host: h for h in report.hosts}
    assert after["node1"].loaded_before and not after["node1"].loaded_after
    assert _two_decimals(after["node1"].load_after) == 0.50
    assert report.migrations == 1 and report.ram_moved_mb == 1024


def test_an_aggregate_without_the_flag_is_left_alone():
    cloud = model({"a": (8192, [4096, 2048]), "b": (8192, [])}, flagged=False)
    plan = plan_balancing(cloud, "agg", 0.1, 10)
    assert plan.actions == ()
    assert any("not flagged" in w for w in plan.warnings)


def test_flag_values():
    assert is_flagged({"balancing": "yes"}) and is_flagged({"balancing": "True"})
    assert not is_flagged({"balancing": "no"}) and not is_flagged({})


def test_an_unknown_aggregate_is_an_error_naming_the_known_ones():
    with pytest.raises(UnknownAggregate, match="'nope'.*agg"):
        plan_balancing(model({"a": (1024, [])}), "nope", 0.1, 10)


@pytest.mark.parametrize("options, why", [
    ({"enabled": False}, "nova-compute disabled"),
    ({"up": False}, "down"),
    ({"reserve": True}, "reserve node"),
    ({"excluded": "in maintenance"}, "in maintenance"),
    ({"excluded": "HA incident: node evacuating"}, "HA incident: node evacuating"),
])
def test_hosts_left_out_are_neither_source_nor_target(options, why):
    layout = {"full": (8192, [2048, 2048, 2048]), "empty": (8192, []), "mid": (8192, [2048])}
    for name in ("full", "empty"):
        plan = plan_balancing(model(layout, host_options={name: options}), "agg", 0.1, 10)
        assert f"{name} left out: {why}" in plan.warnings
        assert all(name not in (a.instance.host, a.target_host) for a in plan.actions)


def test_fewest_migrations_then_least_ram():
    """a must shed 4,506 MB: 4096 + 1024 (two migrations, the least RAM of any two), not
    2048 + 2048 + 1024 (three) nor 4096 + 2048 (more RAM)."""
    cloud = model({"a": (16384, [2048, 2048, 1024, 1024, 1024, 1024, 4096]), "b": (16384, [])})
    plan = plan_balancing(cloud, "agg", 0.1, 10)
    assert [a.instance.ram_mb for a in plan.actions] == [4096, 1024]
    report = load_report(cloud, "agg", 0.1, plan)
    assert not any(h.loaded_after for h in report.hosts)


def test_never_overfills_vcpus_or_disk():
    cloud = model({"a": (8192, [2048, 2048, 2048]), "b": (8192, [])},
                  host_options={"b": {"vcpus": 0}})
    plan = plan_balancing(cloud, "agg", 0.1, 10)
    assert plan.actions == ()
    assert any("a stays loaded" in w for w in plan.warnings)


def test_anti_affinity_members_never_share_a_host():
    """a-0 would go to c, the least loaded host, but c-0 of its anti-affinity group is there."""
    group = ServerGroup("g1", "web", "anti-affinity", ("a-0", "c-0"))
    cloud = model({"a": (8192, [4096, 2048]), "b": (32768, [2048]), "c": (32768, [1024])},
                  groups=(group,))
    plan = plan_balancing(cloud, "agg", 0.1, 10)
    assert [(a.instance.id, a.target_host) for a in plan.actions] == [("a-0", "b"),
                                                                       ("a-1", "c")]


def test_affinity_members_and_unmovable_instances_stay_and_say_why():
    group = ServerGroup("g2", "db", "affinity", ("a-0", "a-1"))
    stuck = instance("stuck", "a", 2048, not_movable="status SHUTOFF: only ACTIVE instances "
                     "live-migrate")
    cloud = model({"a": (8192, [2048, 2048]), "b": (8192, [])}, groups=(group,),
                  extra=(stuck,))
    plan = plan_balancing(cloud, "agg", 0.1, 10)
    assert plan.actions == ()
    reasons = {n.instance.id: n.reason for n in plan.skipped}
    assert "affinity server group db" in reasons["a-0"]
    assert reasons["stuck"].startswith("status SHUTOFF")


def test_the_per_run_cap_stops_the_plan_and_says_what_is_left():
    cloud = model({"a": (8192, [1024] * 7), "b": (8192, [1024] * 7), "c": (8192, []),
                   "d": (8192, [])})
    plan = plan_balancing(cloud, "agg", 0.05, max_migrations=2)
    assert len(plan.actions) == 2
    assert any("cap of 2" in w for w in plan.warnings)


def test_targets_never_become_loaded_nor_pass_the_mean_by_more_than_they_were_below():
    cloud = model({"a": (8192, [4096, 2048, 1024]), "b": (8192, [3072]), "c": (8192, [3072])})
    plan = plan_balancing(cloud, "agg", 0.1, 10)
    loads = AggregateLoads(cloud, "agg", 0.1)
    report = load_report(cloud, "agg", 0.1, plan)
    for h in report.hosts:
        assert abs(h.load_after - loads.mean) <= abs(h.load_before - loads.mean) + 1e-9
