"""The decisions around a balancing run: when it is due, when a migration may not be sent,
what became of one, and the snapshot a plan can be made from offline."""

from __future__ import annotations

import json

import pytest

from cloud_manager.balancing import plan_balancing
from cloud_manager.balancing.schedule import aggregates_due
from cloud_manager.balancing.snapshot import SnapshotError, from_snapshot, to_snapshot
from cloud_manager.execution.live_migrations import abort_reason, judge_live_migration
from cloud_manager.ha.outcome import Outcome
from cloud_manager.model.cloud import ServerGroup
from cloud_manager.model.task_state import (
    TASK_TRANSITIONS,
    TaskState,
    aggregate_of,
    aggregate_task_target,
)
from cloud_manager.nova import LiveMigration

from .builders import instance, model


def test_aggregates_due_after_the_period_or_never_run():
    hour = 3600.0
    assert aggregates_due(["a", "b", "c"], {"a": 0.0, "b": 10 * hour}, 24 * hour,
                          24 * hour) == ["a", "c"]
    assert aggregates_due([], {}, 0, 1) == []


@pytest.mark.parametrize(("hosts", "flagged", "unfit", "expected"), [
    (("s", "t"), True, {}, None),
    (None, True, {}, "the aggregate was deleted"),
    (("s", "t"), False, {}, "the aggregate's balancing flag was removed"),
    (("s",), True, {}, "target host t left the aggregate"),
    (("s", "t"), True, {"t": "HA: node is suspect"}, "target host t: HA: node is suspect"),
    (("s", "t"), True, {"s": "down"}, "source host s: down"),
])
def test_abort_reason(hosts, flagged, unfit, expected):
    assert abort_reason(hosts, flagged, "s", "t", unfit) == expected


def _record(status: str) -> LiveMigration:
    return LiveMigration(7, "i1", status, "t")


def test_judging_a_live_migration():
    assert judge_live_migration(None, None, None, "t").outcome is Outcome.MOVING
    assert judge_live_migration(_record("running"), None, None, "t").outcome is Outcome.MOVING
    assert judge_live_migration(_record("completed"), None, None, "t").outcome is Outcome.DONE
    failed = judge_live_migration(_record("error"), "ACTIVE", "s", "t")
    assert failed.outcome is Outcome.ERROR and "error" in failed.message
    assert judge_live_migration(_record("failed"), "ACTIVE", "t", "t").outcome is Outcome.DONE
    assert judge_live_migration(_record("failed"), None, None, "t").outcome is Outcome.GONE


def test_a_balancing_task_is_kept_on_its_aggregate_and_never_fenced():
    assert aggregate_of(aggregate_task_target("rack-1")) == "rack-1"
    assert aggregate_of("compute-1") is None
    assert TaskState.FENCING not in TASK_TRANSITIONS[TaskState.MIGRATING]
    assert TaskState.MIGRATING in TASK_TRANSITIONS[TaskState.PENDING]


def test_a_snapshot_plans_as_the_model_it_came_from():
    group = ServerGroup("g", "web", "anti-affinity", ("a-0", "c-0"))
    stuck = instance("x", "a", 512, not_movable="status SHUTOFF")
    cloud = model({"a": (8192, [4096, 2048]), "b": (32768, [2048]), "c": (32768, [1024])},
                  groups=(group,), extra=(stuck,))
    data = json.loads(json.dumps(to_snapshot(cloud, "agg")))
    again = from_snapshot(data)
    assert plan_balancing(again, "agg", 0.1, 10) == plan_balancing(cloud, "agg", 0.1, 10)


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d.pop("hosts"), "'hosts' is a required property"),
    (lambda d: d["hosts"][0].update(ram_mb="lots"), "hosts/0/ram_mb"),
    (lambda d: d.update(format="other/9"), "format"),
    (lambda d: d["hosts"].append(dict(d["hosts"][0])), "a host is listed twice"),
])
def test_a_malformed_snapshot_is_one_clear_error(change, message):
    data = to_snapshot(model({"a": (8192, [1024]), "b": (8192, [])}), "agg")
    change(data)
    with pytest.raises(SnapshotError, match=message):
        from_snapshot(data)
