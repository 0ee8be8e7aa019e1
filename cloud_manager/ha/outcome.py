"""What became of a requested instance action, whether to retry it, and how a task ends.

Pure: the executor reads Nova's records (and a server only when its record failed), passes
the plain facts in, and stores the item and task states it gets back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from cloud_manager.model.task_state import ItemState, TaskState

# A server in one of these states on another host is running again (or may be, at its owner's
# will): an evacuation record that says otherwise is out of date.
SETTLED_STATUSES = frozenset({"ACTIVE", "SHUTOFF", "PAUSED", "SUSPENDED"})
RECORD_FINISHED = frozenset({"done", "failed", "error"})


class Outcome(StrEnum):
    MOVING = "moving"
    DONE = "done"
    ERROR = "error"
    GONE = "gone"


@dataclass(frozen=True)
class Judgement:
    """``host``: where the instance now runs, once it is DONE and Nova said so."""

    outcome: Outcome
    message: str | None = None
    host: str | None = None


def judge_record(status: str | None, dest_host: str | None) -> Judgement | None:
    """From the evacuation's migration record (None: not created yet); None when the record
    failed and only the server can tell (Nova marks a record done once the instance is
    rebuilt on its new host, so the record alone says when it is back)."""
    if status not in RECORD_FINISHED:
        return Judgement(Outcome.MOVING)
    if status == "done":
        return Judgement(Outcome.DONE, f"evacuated to {dest_host}", dest_host)
    return None


def judge_server(record_status: str, server_status: str | None, server_host: str | None,
                 failed_host: str) -> Judgement:
    """After a failed record: the server itself (``server_status`` None: it is gone)."""
    if server_status is None or server_status == "DELETED":
        return Judgement(Outcome.GONE)
    if server_host != failed_host and server_status in SETTLED_STATUSES:
        return Judgement(Outcome.DONE, f"{server_status} on {server_host}", server_host)
    return Judgement(Outcome.ERROR, f"evacuation {record_status}; server {server_status}")


@dataclass(frozen=True)
class ItemDecision:
    """The item's next state (None: still moving, ask again) and the message to store."""

    state: ItemState | None
    message: str | None = None


def after_poll(judgement: Judgement, attempts: int, polls: int, retries: int,
               max_polls: int) -> ItemDecision:
    """Done, retried, failed, or still moving after the ``polls``-th look at a request.

    Only a failed rebuild is retried (up to ``retries`` attempts): a deleted server is not, and
    one still moving after ``max_polls`` looks is reported as timed out.
    """
    if judgement.outcome is Outcome.DONE:
        return ItemDecision(ItemState.DONE, judgement.message)
    if judgement.outcome is Outcome.MOVING and polls <= max_polls:
        return ItemDecision(None)
    again = judgement.outcome is Outcome.ERROR and attempts < retries
    reason = ("server was deleted" if judgement.outcome is Outcome.GONE
              else judgement.message or "timed out waiting for the server")
    return ItemDecision(ItemState.PENDING if again else ItemState.FAILED, reason)


def after_failed_request(attempts: int, retries: int, error: str) -> ItemDecision:
    """Nova refused the request (``attempts`` sent so far, this one included)."""
    return ItemDecision(ItemState.PENDING if attempts < retries else ItemState.FAILED, error)


def task_result(counts: Mapping[str, int]) -> TaskState:
    """Done when every instance to move has moved (or there was none), partial when some
    have, failed when none has; skipped instances were never to move."""
    placed = sum(counts.values()) - counts.get(ItemState.SKIPPED, 0)
    done = counts.get(ItemState.DONE, 0)
    if placed == 0 or done == placed:
        return TaskState.DONE
    return TaskState.PARTIAL if done else TaskState.FAILED
