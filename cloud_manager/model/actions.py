"""The planner contract: a cloud model in, a ``Plan`` of typed actions out.

Planners (``cloud_manager.ha.evacuation_planner`` first; balancing and DRS next) are pure
functions ``CloudModel -> Plan``; one durable executor (``cloud_manager.execution``) applies
any plan. Like Watcher's strategy -> solution -> applier, deciding and acting never mix, and
every action names the condition the executor checks before it (``pre``) and the one that
tells it is done (``post``), so a resumed task knows what is left.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

from cloud_manager.model.cloud import CloudModel, Instance


class ActionKind(StrEnum):
    """Stored with each instance action (``task_items.action``) so a resumed task runs it."""

    FENCE = "fence"
    POWER_ON = "power-on"
    POWER_OFF = "power-off"
    SET_SERVICE_STATE = "set-service-state"
    EVACUATE = "evacuate"
    LIVE_MIGRATE = "live-migrate"


@dataclass(frozen=True)
class HostAction:
    """An action on one compute host."""

    kind: ClassVar[ActionKind]
    pre: ClassVar[str] = ""
    post: ClassVar[str] = ""
    host: str


@dataclass(frozen=True)
class Fence(HostAction):
    """Make sure the host runs nothing: power it off, or prove it dead through the storage.

    ``clean_shutdown``: a planned shutdown (the OS stops first; a power device is required);
    ``power_cycle_first``: try a power cycle and stop if the host comes back;
    ``operator_confirmed_off``: without a power device or storage proof, the operator's word
    (``node evacuate --force``) stands for the proof.
    """

    kind = ActionKind.FENCE
    post = "the power device reports an explicit off, or the storage file stopped changing"
    clean_shutdown: bool = False
    power_cycle_first: bool = False
    operator_confirmed_off: bool = False


@dataclass(frozen=True)
class PowerOn(HostAction):
    kind = ActionKind.POWER_ON
    post = "the power device reports on"


@dataclass(frozen=True)
class PowerOff(HostAction):
    kind = ActionKind.POWER_OFF
    post = "the power device reports off"


@dataclass(frozen=True)
class SetServiceState(HostAction):
    """Change the host's nova-compute service; ``None`` leaves that part as it is.

    ``leave_reserve``: the host stops being a reserve node (it was taken to receive instances).
    """

    kind = ActionKind.SET_SERVICE_STATE
    pre = "enabling: Nova sees the service up (enabled earlier, it keeps the disabled trait)"
    enabled: bool | None = None
    forced_down: bool | None = None
    reason: str = ""
    leave_reserve: bool = False


@dataclass(frozen=True)
class InstanceAction:
    """An action on one instance; stored as one task item, resumed from its state."""

    kind: ClassVar[ActionKind]
    pre: ClassVar[str] = ""
    post: ClassVar[str] = ""
    instance: Instance
    target_host: str | None
    pool: str | None = None


@dataclass(frozen=True)
class Evacuate(InstanceAction):
    kind = ActionKind.EVACUATE
    pre = "the instance's host is fenced"
    post = "Nova's evacuation record of this task is done (the instance is rebuilt)"


@dataclass(frozen=True)
class LiveMigrate(InstanceAction):
    kind = ActionKind.LIVE_MIGRATE
    pre = "the instance's host is up and the instance ACTIVE"
    post = "the instance is ACTIVE on the target host"


@dataclass(frozen=True)
class Stage:
    """Instance actions run together; the next stage starts when these are finished or the
    stage's timeout has passed (evacuation: one stage per recovery priority, highest first)."""

    priority: int
    actions: tuple[InstanceAction, ...]


@dataclass(frozen=True)
class NotPlanned:
    """An instance the plan leaves where it is, and why."""

    instance: Instance
    reason: str


@dataclass(frozen=True)
class Plan:
    """What a planner decided: host actions first (in order), then the stages in order.

    ``unplaced``: instances that should move but fit nowhere (an alert); ``skipped``:
    instances that are not to move (e.g. recovery priority 0).
    """

    prepare: tuple[HostAction, ...] = ()
    stages: tuple[Stage, ...] = ()
    unplaced: tuple[NotPlanned, ...] = ()
    skipped: tuple[NotPlanned, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def actions(self) -> tuple[InstanceAction, ...]:
        return tuple(action for stage in self.stages for action in stage.actions)

    def summary(self) -> str:
        return (f"{len(self.actions)} to {_verbs(self)} in {len(self.stages)} priority "
                f"group(s), {len(self.unplaced)} do not fit, {len(self.skipped)} skipped")


# A planner with its goal bound (e.g. functools.partial(plan_host_evacuation, host=...)).
Planner = Callable[[CloudModel], Plan]


def _verbs(plan: Plan) -> str:
    kinds = sorted({action.kind for action in plan.actions}) or [ActionKind.EVACUATE]
    return " or ".join("live-migrate" if k == ActionKind.LIVE_MIGRATE else "evacuate"
                       for k in kinds)
