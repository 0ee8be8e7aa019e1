"""One automatic task per incident: asked again only when something changed."""

from __future__ import annotations

from cloud_manager.ha.incident import PastTask, decide_auto_task

ABORTED = PastTask("t1", "aborted", "cannot fence c1", created_at=100.0, finished_at=110.0)


def test_first_decision_of_an_incident_asks_for_a_task():
    assert decide_auto_task(50.0, None, None, None).request
    earlier = PastTask("t0", "done", "1 done", created_at=10.0, finished_at=20.0)
    assert decide_auto_task(50.0, earlier, None, None).request  # an earlier incident's


def test_a_task_that_ended_in_this_incident_is_not_asked_for_again():
    decision = decide_auto_task(50.0, ABORTED, None, None)
    assert not decision.request
    assert "task t1 aborted: cannot fence c1" in decision.reason
    assert not decide_auto_task(50.0, ABORTED, "bmc", 105.0).request  # device older


def test_a_power_device_added_after_the_task_ended_asks_again_and_says_why():
    decision = decide_auto_task(50.0, ABORTED, "bmc", 120.0)
    assert decision.request
    assert "retried because power device bmc was added or changed after task t1" in (
        decision.reason)
