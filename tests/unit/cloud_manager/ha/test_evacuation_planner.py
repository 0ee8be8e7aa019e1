"""The planner contract with its first user: a cloud model in, typed actions out."""

from __future__ import annotations

from cloud_manager.ha.evacuation_plan import Strategy
from cloud_manager.ha.evacuation_planner import plan_host_evacuation
from cloud_manager.model.actions import ActionKind, Evacuate, PowerOn, SetServiceState
from cloud_manager.model.cloud import CloudModel, Instance, TargetHost


def vm(name: str, priority: int, ram: int = 1024) -> Instance:
    return Instance(id=name, name=name, host="failed", priority=priority, ram_mb=ram, vcpus=1,
                    disk_gb=1)


def host(name: str, ram: int = 4096, reserve: bool = False) -> TargetHost:
    return TargetHost(name=name, free_ram_mb=ram, free_vcpus=8, free_disk_gb=100,
                      reserve=reserve, enabled=not reserve)


def test_reserve_hosts_are_prepared_before_any_instance_moves():
    model = CloudModel(hosts=(host("r1", reserve=True), host("a1", ram=1024)),
                       instances=(vm("low", 2), vm("high", 9), vm("never", 0)),
                       warnings=("low: priority unreadable",))
    plan = plan_host_evacuation(model, "failed", Strategy.AUTO_PRIORITY)

    assert plan.prepare == (PowerOn("r1"), SetServiceState("r1", enabled=True, leave_reserve=True,
                                                           reason=plan.prepare[1].reason))
    assert [stage.priority for stage in plan.stages] == [9, 2]
    assert [(a.instance.id, a.target_host, a.pool) for a in plan.actions] == [
        ("high", "a1", "auto"), ("low", "r1", "reserve")]
    assert all(isinstance(a, Evacuate) and a.kind is ActionKind.EVACUATE for a in plan.actions)
    assert [s.instance.id for s in plan.skipped] == ["never"]
    assert plan.warnings == ("low: priority unreadable",)
    assert plan.summary() == "2 to evacuate in 2 priority group(s), 0 do not fit, 1 skipped"


def test_what_fits_nowhere_is_unplaced_and_nothing_is_prepared_for_it():
    model = CloudModel(hosts=(host("a1", ram=512),), instances=(vm("big", 5, ram=2048),))
    plan = plan_host_evacuation(model, "failed", Strategy.AUTO)
    assert plan.prepare == () and plan.stages == ()
    assert [u.instance.id for u in plan.unplaced] == ["big"]
    assert "needs 2048 MB RAM" in plan.unplaced[0].reason


def test_the_failed_host_never_receives_its_own_instances():
    model = CloudModel(hosts=(host("failed", ram=65536), host("a1")), instances=(vm("x", 5),))
    plan = plan_host_evacuation(model, "failed", Strategy.AUTO)
    assert [a.target_host for a in plan.actions] == ["a1"]
