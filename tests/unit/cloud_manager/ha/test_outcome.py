"""Outcome and retry decisions of instance actions, and how a task ends."""

from __future__ import annotations

import pytest

from cloud_manager.ha.outcome import (
    Judgement,
    Outcome,
    after_failed_request,
    after_poll,
    judge_record,
    judge_server,
    task_result,
)


def test_the_record_tells_when_an_instance_is_back_and_a_failed_one_asks_the_server():
    assert judge_record(None, None) == Judgement(Outcome.MOVING)
    assert judge_record("migrating", "c2") == Judgement(Outcome.MOVING)
    assert judge_record("done", "c2") == Judgement(Outcome.DONE, "evacuated to c2", "c2")
    assert judge_record("failed", None) is None
    assert judge_server("failed", None, None, "c1").outcome is Outcome.GONE
    assert judge_server("error", "ACTIVE", "c3", "c1") == Judgement(Outcome.DONE,
                                                                    "ACTIVE on c3", "c3")
    assert judge_server("error", "ACTIVE", "c1", "c1") == Judgement(
        Outcome.ERROR, "evacuation error; server ACTIVE")


@pytest.mark.parametrize(("judgement", "attempts", "polls", "expected"), [
    (Judgement(Outcome.MOVING), 1, 3, (None, None)),
    (Judgement(Outcome.MOVING), 1, 4, ("failed", "timed out waiting for the server")),
    (Judgement(Outcome.ERROR, "evacuation failed; server ERROR"), 1, 1,
     ("pending", "evacuation failed; server ERROR")),
    (Judgement(Outcome.ERROR, "evacuation failed; server ERROR"), 2, 1,
     ("failed", "evacuation failed; server ERROR")),
    (Judgement(Outcome.GONE), 1, 1, ("failed", "server was deleted")),
    (Judgement(Outcome.DONE, "evacuated to c2"), 2, 9, ("done", "evacuated to c2")),
])
def test_after_poll(judgement, attempts, polls, expected):
    decision = after_poll(judgement, attempts, polls, retries=2, max_polls=3)
    assert (decision.state, decision.message) == expected


def test_a_refused_request_is_retried_up_to_the_retries():
    assert after_failed_request(1, 2, "HTTP 409").state == "pending"
    assert after_failed_request(2, 2, "HTTP 409").state == "failed"


@pytest.mark.parametrize(("counts", "state"), [
    ({}, "done"), ({"skipped": 3}, "done"), ({"done": 2, "skipped": 1}, "done"),
    ({"done": 1, "failed": 1}, "partial"), ({"done": 1, "unplaced": 1}, "partial"),
    ({"failed": 2}, "failed"), ({"unplaced": 1, "skipped": 1}, "failed"),
])
def test_task_result(counts, state):
    assert task_result(counts) == state
