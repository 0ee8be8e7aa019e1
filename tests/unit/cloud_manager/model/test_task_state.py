"""The task and item state tables: every state has its row, and the moves that matter are
the only ones allowed."""

from __future__ import annotations

import pytest

from cloud_manager.model.task_state import (
    ACTIVE_TASK_STATES,
    FINAL_ITEM_STATES,
    FINAL_TASK_STATES,
    ITEM_TRANSITIONS,
    TASK_TRANSITIONS,
    InvalidTaskTransition,
    ItemState,
    TaskState,
    check_item_move,
    check_task_move,
)


def test_every_state_has_a_row_and_moves_only_to_known_states():
    assert set(TASK_TRANSITIONS) == set(TaskState)
    assert set(ITEM_TRANSITIONS) == set(ItemState)
    for table in (TASK_TRANSITIONS, ITEM_TRANSITIONS):
        for state, targets in table.items():
            assert state not in targets
            assert targets <= set(table)


def test_active_and_final_task_states_split_the_states():
    assert {"pending", "fencing", "evacuating", "migrating", "provisioning"} == ACTIVE_TASK_STATES
    assert {"done", "partial", "failed", "aborted"} == FINAL_TASK_STATES
    assert {"done", "failed", "unplaced", "skipped"} == FINAL_ITEM_STATES


@pytest.mark.parametrize(("from_state", "to_state"), [
    ("fencing", "pending"), ("evacuating", "fencing"), ("pending", "done"),
    ("done", "evacuating"), ("aborted", "pending"),
    # Provisioning has no items: it never ends partial, and is never fenced.
    ("provisioning", "partial"), ("provisioning", "fencing"),
])
def test_refused_task_moves(from_state, to_state):
    with pytest.raises(InvalidTaskTransition, match=f"from {from_state} to {to_state}"):
        check_task_move("t1", from_state, to_state)


@pytest.mark.parametrize(("from_state", "to_state"), [
    ("pending", "done"),  # never done without a request
    ("done", "requested"),  # a finished instance is never sent again
    ("failed", "pending"), ("unplaced", "pending"), ("skipped", "requested"),
])
def test_refused_item_moves(from_state, to_state):
    with pytest.raises(InvalidTaskTransition, match="cannot go from"):
        check_item_move("vm1", from_state, to_state)


def test_allowed_moves_and_staying_put():
    assert check_task_move("t1", "pending", "fencing") is TaskState.FENCING
    assert check_task_move("t1", "fencing", "fencing") is TaskState.FENCING
    assert check_item_move("vm1", "requested", "pending") is ItemState.PENDING
    assert check_item_move("vm1", "pending", "requested") is ItemState.REQUESTED
