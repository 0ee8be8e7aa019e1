"""Instance HA decision core: pure functions the node tracker and host tasks call.

Nothing here does I/O or reads the clock; callers pass plain data and `now` in, and act on the
records, transitions and plans they get back.
"""

from cloud_manager.ha.evacuation_plan import (
    EvacuationPlan,
    Instance,
    Placement,
    PriorityGroup,
    Skipped,
    Strategy,
    TargetHost,
    Unplaced,
    plan_evacuation,
)
from cloud_manager.ha.guards import EvacuationPolicy, GuardDecision, decide_auto_evacuation
from cloud_manager.ha.node_state import (
    RECOVERABLE_STATES,
    InvalidTransition,
    Liveness,
    NodeRecord,
    NodeState,
    Probes,
    TrackerPolicy,
    Transition,
    Verdict,
    assess,
    mark,
    observe,
)
from cloud_manager.ha.priority import RECOVERY_PRIORITY_KEY, Priority, resolve_priority

__all__ = [
    "RECOVERABLE_STATES",
    "RECOVERY_PRIORITY_KEY",
    "EvacuationPlan",
    "EvacuationPolicy",
    "GuardDecision",
    "Instance",
    "InvalidTransition",
    "Liveness",
    "NodeRecord",
    "NodeState",
    "Placement",
    "Priority",
    "PriorityGroup",
    "Probes",
    "Skipped",
    "Strategy",
    "TargetHost",
    "TrackerPolicy",
    "Transition",
    "Unplaced",
    "Verdict",
    "assess",
    "decide_auto_evacuation",
    "mark",
    "observe",
    "plan_evacuation",
    "resolve_priority",
]
