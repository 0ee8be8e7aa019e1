"""States of a durable host task and of its per-instance items, and the moves between them.

One table per kind, like the node state machine (``cloud_manager.ha.node_state``): the DB layer
refuses a move outside it, the API derives progress from it and the CLI knows when to stop
waiting from it, so no list of state names is copied anywhere.
"""

from __future__ import annotations

from enum import StrEnum


class TaskKind(StrEnum):
    """Why a host task exists: the tracker found the node down (AUTOMATIC), an operator
    evacuates a node (MANUAL), or shuts a running node down through its power device and has
    its instances evacuated once it is off (SHUTDOWN)."""

    AUTOMATIC = "auto-evacuation"
    MANUAL = "manual-evacuation"
    SHUTDOWN = "planned-shutdown"
    # Live migrations inside one host aggregate (``cloud_manager.balancing``); never fenced.
    BALANCING = "balancing"
    # The live migrations of one Watcher action plan (``cloud_manager.drs``); never fenced.
    DRS = "drs"
    # A bare node brought into Nova (PXE file, power on, DHCP lease, nova-compute); never fenced.
    PROVISIONING = "provisioning"


# Kinds that never run beside each other: balancing and DRS both move instances by a picture
# of the load the other's moves make stale. Only efficiency is at stake (Placement claims each
# move's destination), so the check runs in the inserting transaction, without a lock.
EXCLUDES: dict[TaskKind, TaskKind] = {TaskKind.BALANCING: TaskKind.DRS,
                                      TaskKind.DRS: TaskKind.BALANCING}

# A balancing task is kept on the aggregate, not on a node: its row's hostname is this prefix
# and the aggregate's name (one active task per aggregate, as per node).
AGGREGATE_PREFIX = "aggregate:"


def aggregate_task_target(aggregate: str) -> str:
    return AGGREGATE_PREFIX + aggregate


def aggregate_of(target: str) -> str | None:
    """The aggregate a task's target names (None: the target is a node)."""
    return target.removeprefix(AGGREGATE_PREFIX) if target.startswith(AGGREGATE_PREFIX) else None


# A DRS task is kept on the Watcher action plan it applies: this prefix and the plan's uuid.
# Its row is never deleted, so a plan is applied once whatever its task's end.
DRS_PREFIX = "drs:"


def drs_task_target(action_plan: str) -> str:
    return DRS_PREFIX + action_plan


def action_plan_of(target: str) -> str | None:
    """The Watcher action plan a task's target names (None: it names none)."""
    return target.removeprefix(DRS_PREFIX) if target.startswith(DRS_PREFIX) else None


class TaskState(StrEnum):
    PENDING = "pending"
    FENCING = "fencing"
    EVACUATING = "evacuating"
    MIGRATING = "migrating"
    PROVISIONING = "provisioning"
    DONE = "done"
    PARTIAL = "partial"
    FAILED = "failed"
    ABORTED = "aborted"


class ItemState(StrEnum):
    PENDING = "pending"
    REQUESTED = "requested"
    DONE = "done"
    FAILED = "failed"
    UNPLACED = "unplaced"
    SKIPPED = "skipped"


_T, _I = TaskState, ItemState
_ENDINGS = frozenset({_T.DONE, _T.PARTIAL, _T.FAILED, _T.ABORTED})

TASK_TRANSITIONS: dict[TaskState, frozenset[TaskState]] = {
    _T.PENDING: frozenset({_T.FENCING, _T.EVACUATING, _T.MIGRATING, _T.PROVISIONING,
                           _T.FAILED, _T.ABORTED}),
    # A task is evacuating only once its node is fenced (or the task needs no fencing).
    _T.FENCING: frozenset({_T.EVACUATING, _T.FAILED, _T.ABORTED}),
    _T.EVACUATING: _ENDINGS,
    # Balancing: live migrations, with no fencing before them.
    _T.MIGRATING: _ENDINGS,
    # Provisioning: no items, so never partial.
    _T.PROVISIONING: frozenset({_T.DONE, _T.FAILED, _T.ABORTED}),
    _T.DONE: frozenset(),
    _T.PARTIAL: frozenset(),
    _T.FAILED: frozenset(),
    _T.ABORTED: frozenset(),
}

ITEM_TRANSITIONS: dict[ItemState, frozenset[ItemState]] = {
    # Marked requested *before* Nova is asked: a resumed task asks Nova whether it went out.
    _I.PENDING: frozenset({_I.REQUESTED}),
    # Back to pending: the request failed and is retried, or it never reached Nova.
    _I.REQUESTED: frozenset({_I.PENDING, _I.DONE, _I.FAILED}),
    _I.DONE: frozenset(),
    _I.FAILED: frozenset(),
    _I.UNPLACED: frozenset(),
    _I.SKIPPED: frozenset(),
}

# The states a task may be in to move to a state (staying put included).
TASK_PREDECESSORS: dict[TaskState, frozenset[TaskState]] = {
    to: frozenset({to} | {s for s, moves in TASK_TRANSITIONS.items() if to in moves})
    for to in TaskState}
ACTIVE_TASK_STATES = frozenset(s for s in TaskState if TASK_TRANSITIONS[s])
FINAL_TASK_STATES = frozenset(s for s in TaskState if not TASK_TRANSITIONS[s])
# Items that need no more work; they count towards a task's progress.
FINAL_ITEM_STATES = frozenset(s for s in ItemState if not ITEM_TRANSITIONS[s])
# States an item may be created in (by storing a plan).
INITIAL_ITEM_STATES = frozenset({_I.PENDING, _I.UNPLACED, _I.SKIPPED})


class InvalidTaskTransition(ValueError):
    """A task or item move outside ``TASK_TRANSITIONS`` / ``ITEM_TRANSITIONS``."""


def check_task_move(task_id: str, from_state: str, to_state: str) -> TaskState:
    """The target state if the move is allowed (staying put always is)."""
    return _check("task", task_id, TaskState(from_state), TaskState(to_state), TASK_TRANSITIONS)


def check_item_move(instance_id: str, from_state: str, to_state: str) -> ItemState:
    return _check("item", instance_id, ItemState(from_state), ItemState(to_state),
                  ITEM_TRANSITIONS)


def _check(what: str, name: str, from_state, to_state, table):
    if to_state != from_state and to_state not in table[from_state]:
        allowed = ", ".join(sorted(table[from_state])) or "none: it is final"
        raise InvalidTaskTransition(f"{what} {name}: cannot go from {from_state} to "
                                    f"{to_state} (allowed: {allowed})")
    return to_state
