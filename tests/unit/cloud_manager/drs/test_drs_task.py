"""A Watcher action plan taken by the trigger or by hand and run by the one durable executor,
on a migrated database: an in-memory Watcher adapter (its three calls) and Nova."""

from __future__ import annotations

from dataclasses import replace

import pytest

from cloud_manager import drs_trigger
from cloud_manager.db import api as db_api
from cloud_manager.drs.action_plan import ActionPlan, WatcherAction
from cloud_manager.execution.executor import TaskExecutor
from cloud_manager.watcher import WatcherError
from tests.unit.cloud_manager.balancing.test_balancing_task import BalancingNova
from tests.unit.cloud_manager.conftest import HOSTS


class MemoryWatcher:
    """Watcher's action plans in memory, with its PATCH rule (RECOMMENDED -> CANCELLED)."""

    def __init__(self) -> None:
        self.plans: dict[str, ActionPlan] = {}
        self.cancel_fails = False
        self.down = False

    def add(self, uuid: str, *actions: WatcherAction, audit_state: str = "SUCCEEDED") -> None:
        self.plans[uuid] = ActionPlan(uuid, "RECOMMENDED", f"audit-{uuid}", audit_state,
                                      "actuator", actions)

    def _check(self) -> None:
        if self.down:
            raise WatcherError("Watcher at http://watcher:9322 unreachable: connection refused")

    def action_plans(self, state=None):
        self._check()
        return [replace(p, actions=()) for p in self.plans.values()
                if state is None or p.state == state]

    def action_plan(self, uuid):
        self._check()
        if uuid not in self.plans:
            raise WatcherError(f"Watcher answered 404: action plan {uuid} not found", 404)
        return self.plans[uuid]

    def cancel(self, uuid):
        self._check()
        if self.cancel_fails:
            raise WatcherError("Watcher answered 503: busy", 503)
        if self.plans[uuid].state != "RECOMMENDED":
            raise WatcherError("Watcher answered 400: State transition not allowed", 400)
        self.plans[uuid] = replace(self.plans[uuid], state="CANCELLED")
        return "CANCELLED"


def _live(uuid: str, server: str, source: str, destination: str, kind: str = "live"):
    return WatcherAction(uuid, "migrate", {"resource_id": server, "migration_type": kind,
                                           "source_node": source,
                                           "destination_node": destination})


@pytest.fixture
def cloud(make_runtime):
    runtime = make_runtime()
    nova, watcher = BalancingNova(HOSTS), MemoryWatcher()
    runtime.__dict__.update(nova=nova, watcher=watcher)
    with runtime.transaction() as session:
        db_api.ensure_nodes(session, HOSTS)
    for n in range(3):
        nova.add_server(f"vm{n}", "c1")
    return runtime, nova, watcher


def _run(runtime, task_id: str) -> str:
    return TaskExecutor(runtime, "w1").run(task_id)


def _tasks(runtime, plan: str):
    with runtime.transaction() as session:
        return [(t.id, t.kind, t.state, sorted((i.instance_id, i.state) for i in t.items))
                for t in db_api.tasks(session, hostname=f"drs:{plan}")]


def test_the_trigger_takes_a_plan_once_runs_its_live_migrations_and_cancels_it(cloud):
    runtime, nova, watcher = cloud
    watcher.add("p1", _live("a1", "vm0", "c1", "c2"), _live("a2", "vm1", "c1", "c3", "cold"),
                WatcherAction("a3", "change_nova_service_state", {"resource_id": "c1"}))
    shown = drs_trigger.preview(runtime)
    assert shown[0]["migrations"] == [{"instance": "vm0", "instance_name": "vm0",
                                       "source": "c1", "target": "c2"}]
    assert shown[0]["task"] is None and len(shown[0]["refused"]) == 2

    task_id = drs_trigger.apply_recommended(runtime, dispatch=lambda _id: None)
    assert watcher.plans["p1"].state == "CANCELLED"  # Watcher's applier will not run it
    assert _run(runtime, task_id) == "done"
    assert nova.live_calls == [("vm0", "c2")]
    assert _tasks(runtime, "p1") == [(task_id, "drs", "done",
                                      [("vm0", "done"), ("vm1", "skipped")])]
    with runtime.transaction() as session:
        warnings = [e.message for e in db_api.events(session, "drs:p1", kind="warning")]
    assert any("change_nova_service_state" in w for w in warnings), warnings

    # Never twice: not by the trigger, not by hand, even if Watcher showed it again.
    watcher.plans["p1"] = replace(watcher.plans["p1"], state="RECOMMENDED")
    assert drs_trigger.apply_recommended(runtime, dispatch=lambda _id: None) is None
    assert watcher.plans["p1"].state == "CANCELLED"
    with pytest.raises(db_api.Conflict, match="taken by task .* never applied twice"):
        drs_trigger.request_apply(runtime, "p1", "user 1", dispatch=lambda _id: None)
    assert len(_tasks(runtime, "p1")) == 1 and nova.live_calls == [("vm0", "c2")]


def test_a_plan_not_cancelled_in_watcher_is_still_run_once_and_cancelled_later(cloud):
    runtime, nova, watcher = cloud
    watcher.add("p1", _live("a1", "vm0", "c1", "c2"))
    watcher.cancel_fails = True
    task_id = drs_trigger.apply_recommended(runtime, dispatch=lambda _id: None)
    assert watcher.plans["p1"].state == "RECOMMENDED"
    assert _run(runtime, task_id) == "done"
    watcher.cancel_fails = False
    assert drs_trigger.apply_recommended(runtime, dispatch=lambda _id: None) is None
    assert watcher.plans["p1"].state == "CANCELLED" and len(nova.live_calls) == 1


def test_one_plan_at_a_time_and_only_recommended_plans_of_succeeded_audits(cloud):
    runtime, _, watcher = cloud
    watcher.add("p1", _live("a1", "vm0", "c1", "c2"))
    watcher.add("p2", _live("b1", "vm1", "c1", "c3"))
    watcher.add("p3", _live("c1", "vm2", "c1", "c4"), audit_state="FAILED")
    first = drs_trigger.apply_recommended(runtime, dispatch=lambda _id: None)
    assert drs_trigger.apply_recommended(runtime, dispatch=lambda _id: None) is None  # p1 runs
    _run(runtime, first)
    second = drs_trigger.apply_recommended(runtime, dispatch=lambda _id: None)
    _run(runtime, second)
    assert [_tasks(runtime, p)[0][0] for p in ("p1", "p2")] == [first, second]
    assert drs_trigger.apply_recommended(runtime, dispatch=lambda _id: None) is None
    assert _tasks(runtime, "p3") == []
    with pytest.raises(db_api.Conflict, match="only RECOMMENDED plans of SUCCEEDED audits"):
        drs_trigger.request_apply(runtime, "p3", "user 1", dispatch=lambda _id: None)
    with pytest.raises(db_api.NotFound, match="no Watcher action plan 'nope'"):
        drs_trigger.request_apply(runtime, "nope", "user 1", dispatch=lambda _id: None)


def test_ha_wins_a_target_in_maintenance_aborts_before_anything_is_sent(cloud):
    runtime, nova, watcher = cloud
    watcher.add("p1", _live("a1", "vm0", "c1", "c2"), _live("a2", "vm1", "c1", "c3"))
    task = drs_trigger.request_apply(runtime, "p1", "user 1", dispatch=lambda _id: None)
    with runtime.transaction() as session:
        db_api.node(session, "c2").maintenance = True
    assert _run(runtime, task["id"]) == "aborted"
    assert nova.live_calls == []
    with runtime.transaction() as session:
        row = db_api.task(session, task["id"])
        assert "DRS task stopped: target host c2" in row.message
        assert {i.instance_id: i.state for i in row.items} == {"vm0": "pending",
                                                              "vm1": "pending"}


def test_watcher_unreachable_fails_the_trigger_run_and_a_started_task_cleanly(cloud):
    runtime, nova, watcher = cloud
    watcher.add("p1", _live("a1", "vm0", "c1", "c2"))
    task = drs_trigger.request_apply(runtime, "p1", "user 1", dispatch=lambda _id: None)
    watcher.down = True
    with pytest.raises(WatcherError, match="unreachable"):
        drs_trigger.apply_recommended(runtime, dispatch=lambda _id: None)
    assert _run(runtime, task["id"]) == "failed"
    with runtime.transaction() as session:
        assert "unreachable" in db_api.task(session, task["id"]).message
    assert nova.live_calls == []


def test_a_plan_waits_while_an_aggregate_is_balanced_and_balancing_waits_for_a_plan(cloud):
    from cloud_manager import balancer

    runtime, nova, watcher = cloud
    balancing = balancer.request_run(runtime, "rack", "user 1", dispatch=lambda _id: None)
    watcher.add("p1", _live("a1", "vm0", "c1", "c2"))
    assert drs_trigger.apply_recommended(runtime, dispatch=lambda _id: None) is None
    with pytest.raises(db_api.Conflict, match=f"a balancing task is running \\({balancing['id']}"
                                              ", on aggregate:rack\\): drs waits"):
        drs_trigger.request_apply(runtime, "p1", "user 1", dispatch=lambda _id: None)
    assert watcher.plans["p1"].state == "RECOMMENDED" and _tasks(runtime, "p1") == []

    assert _run(runtime, balancing["id"]) == "done"
    plan_task = drs_trigger.apply_recommended(runtime, dispatch=lambda _id: None)
    assert plan_task is not None
    with pytest.raises(db_api.Conflict, match="a drs task is running .*: balancing waits"):
        balancer.request_run(runtime, "rack", "user 1", dispatch=lambda _id: None)
    assert balancer.run_due(runtime, now=10 ** 10) == []  # the periodic run skips it too
    with runtime.transaction() as session:
        assert [t.id for t in db_api.active_tasks_of(session, "balancing")] == []
