"""Watcher action plan -> the executor's plan: only live migrations with both hosts, each
refusal with its reason, Watcher's action graph order; which plans the trigger takes."""

from __future__ import annotations

from cloud_manager.drs.action_plan import (
    ActionPlan,
    WatcherAction,
    in_order,
    plans_to_take,
    resources_of,
    to_plan,
)
from cloud_manager.model.actions import ActionKind
from cloud_manager.model.cloud import Instance


def _migrate(uuid: str, server: str, kind: str = "live", source: str = "c1",
             destination: str | None = "c2", parents: tuple[str, ...] = ()) -> WatcherAction:
    params = {"resource_id": server, "migration_type": kind, "source_node": source}
    if destination is not None:
        params["destination_node"] = destination
    return WatcherAction(uuid, "migrate", params, parents)


def _plan(*actions: WatcherAction, state: str = "RECOMMENDED", audit: str | None = "SUCCEEDED",
          uuid: str = "p1") -> ActionPlan:
    return ActionPlan(uuid, state, "a1", audit, "actuator", actions)


def _instance(iid: str, host: str = "c1", not_movable: str = "") -> Instance:
    return Instance(id=iid, name=f"vm-{iid}", host=host, priority=0, ram_mb=512, vcpus=1,
                    disk_gb=1, not_movable=not_movable)


def test_live_migrations_become_live_migrate_actions_to_their_destination():
    plan = to_plan(_plan(_migrate("a1", "s1"), _migrate("a2", "s2", destination="c3")),
                   {"s1": _instance("s1"), "s2": _instance("s2")})
    assert [(a.kind, a.instance.id, a.instance.host, a.target_host) for a in plan.actions] == [
        (ActionKind.LIVE_MIGRATE, "s1", "c1", "c2"), (ActionKind.LIVE_MIGRATE, "s2", "c1", "c3")]
    assert plan.skipped == () and plan.warnings == ()


def test_cold_migrations_resizes_and_unknown_actions_are_refused_with_a_reason():
    actions = (
        _migrate("cold", "s1", kind="cold"),
        WatcherAction("resize", "resize", {"resource_id": "s2", "flavor": "m1.large"}),
        WatcherAction("svc", "change_nova_service_state", {"resource_id": "c1",
                                                           "state": "disabled"}),
        WatcherAction("nop", "nop", {"message": "hello"}),
        _migrate("nodest", "s3", destination=None),
    )
    plan = to_plan(_plan(*actions), {sid: _instance(sid) for sid in ("s1", "s2", "s3")})
    assert plan.actions == ()
    reasons = {n.instance.id: n.reason for n in plan.skipped}
    assert reasons == {
        "s1": "action cold: cold migration refused (only live migrations are applied)",
        "s2": "action resize: type 'resize' is not applied by AOS (only live migrations are)",
        "s3": "action nodest: no destination_node (AOS checks both hosts before it sends a "
              "migration)"}
    # A host-level action names no instance: a warning the task's events keep; nop: nothing.
    assert plan.warnings == ("action plan p1: action svc: type 'change_nova_service_state' is "
                             "not applied by AOS (only live migrations are)",)


def test_an_instance_gone_moved_or_not_movable_since_the_audit_is_not_sent():
    plan = to_plan(_plan(_migrate("a1", "gone"), _migrate("a2", "moved"),
                         _migrate("a3", "busy"), _migrate("a4", "fine")),
                   {"moved": _instance("moved", host="c4"),
                    "busy": _instance("busy", not_movable="busy: task_state migrating"),
                    "fine": _instance("fine")})
    assert [a.instance.id for a in plan.actions] == ["fine"]
    assert {n.instance.id: n.reason for n in plan.skipped} == {
        "moved": "action a2: vm-moved is on c4, not on c1 as the audit saw it",
        "busy": "action a3: vm-busy: busy: task_state migrating"}
    assert plan.warnings == ("action plan p1: action a1: instance gone no longer exists",)


def test_parents_run_before_children_whatever_the_listing_order():
    child = _migrate("child", "s2", parents=("parent",))
    parent = _migrate("parent", "s1")
    orphan = _migrate("orphan", "s3", parents=("not-in-this-plan",))
    assert [a.uuid for a in in_order([child, orphan, parent])] == ["orphan", "parent", "child"]
    cycle = [_migrate("x", "s1", parents=("y",)), _migrate("y", "s2", parents=("x",))]
    assert [a.uuid for a in in_order(cycle)] == ["x", "y"]  # nothing lost


def test_only_recommended_plans_of_succeeded_audits_not_taken_yet_are_taken():
    plans = [_plan(uuid="fresh"), _plan(uuid="taken"), _plan(uuid="ongoing", state="ONGOING"),
             _plan(uuid="failed-audit", audit="FAILED"), _plan(uuid="no-audit", audit=None),
             _plan(uuid="cancelled", state="CANCELLED")]
    assert [p.uuid for p in plans_to_take(plans, frozenset({"taken"}))] == ["fresh"]


def test_resources_are_the_instances_the_actions_name():
    plan = _plan(_migrate("a", "s2"), _migrate("b", "s1"), WatcherAction("n", "nop", {}))
    assert resources_of(plan) == ["s1", "s2"]
