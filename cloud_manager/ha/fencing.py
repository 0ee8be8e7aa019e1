"""How a host task fences its node: the ``Fence`` action for the task's kind (pure)."""

from __future__ import annotations

from cloud_manager.model.actions import Fence
from cloud_manager.model.task_state import TaskKind


def fence_for(host: str, kind: TaskKind, power_cycle_first: bool) -> Fence:
    """A planned shutdown stops the OS first; only the tracker's own decision tries a power
    cycle (``[node_tracker] allow_host_auto_power_off``); only an operator can vouch that a
    node without any proof is off."""
    return Fence(host, clean_shutdown=kind == TaskKind.SHUTDOWN,
                 power_cycle_first=power_cycle_first and kind == TaskKind.AUTOMATIC,
                 operator_confirmed_off=kind == TaskKind.MANUAL)
