"""The ``Fence`` action each kind of host task fences its node with."""

from __future__ import annotations

import pytest

from cloud_manager.ha.fencing import fence_for
from cloud_manager.model.actions import Fence
from cloud_manager.model.task_state import TaskKind


@pytest.mark.parametrize(("kind", "cycle_allowed", "expected"), [
    (TaskKind.AUTOMATIC, True, Fence("c1", power_cycle_first=True)),
    (TaskKind.AUTOMATIC, False, Fence("c1")),
    (TaskKind.MANUAL, True, Fence("c1", operator_confirmed_off=True)),
    (TaskKind.SHUTDOWN, True, Fence("c1", clean_shutdown=True)),
])
def test_each_task_kind_fences_its_own_way(kind, cycle_allowed, expected):
    assert fence_for("c1", kind, cycle_allowed) == expected
