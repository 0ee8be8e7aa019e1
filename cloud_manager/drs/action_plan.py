"""Watcher's action plans as plain data, and the plan of live migrations AOS makes of one.

Watcher (strategy -> solution -> applier) recommends; AOS applies only the ``migrate``
actions of type ``live`` with a source and a destination, through its own executor, so HA
and maintenance win over what an audit decided minutes ago. Everything else an action plan
holds is refused with a reason the task keeps.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cloud_manager.model.actions import LiveMigrate, NotPlanned, Plan, Stage
from cloud_manager.model.cloud import Instance

# Watcher's states (watcher.objects.action_plan.State / audit.State) that matter here.
RECOMMENDED = "RECOMMENDED"
AUDIT_SUCCEEDED = "SUCCEEDED"
MIGRATE = "migrate"
LIVE = "live"
# Action types that only prepare or pause: nothing to do for AOS, nothing to warn about.
HARMLESS_TYPES = frozenset({"nop", "sleep"})


@dataclass(frozen=True)
class WatcherAction:
    uuid: str
    action_type: str
    parameters: Mapping[str, Any] = field(default_factory=dict)
    parents: tuple[str, ...] = ()


@dataclass(frozen=True)
class ActionPlan:
    """One action plan; ``audit_state`` is its audit's state (None: unknown or deleted)."""

    uuid: str
    state: str
    audit_uuid: str
    audit_state: str | None
    strategy: str = ""
    actions: tuple[WatcherAction, ...] = ()


def is_applicable(plan: ActionPlan) -> bool:
    """Recommended by an audit that succeeded: what Watcher would apply if asked."""
    return plan.state == RECOMMENDED and plan.audit_state == AUDIT_SUCCEEDED


def plans_to_take(plans: Iterable[ActionPlan], taken: frozenset[str]) -> list[ActionPlan]:
    """The applicable plans no task of AOS has taken yet, oldest audit first as listed."""
    return [plan for plan in plans if is_applicable(plan) and plan.uuid not in taken]


def in_order(actions: Iterable[WatcherAction]) -> list[WatcherAction]:
    """Parents before children (Watcher's action graph); listing order among equals."""
    pending, done, ordered = list(actions), set(), []
    known = {action.uuid for action in pending}
    while pending:
        ready = [a for a in pending if all(p in done or p not in known for p in a.parents)]
        if not ready:  # a cycle: keep the listing order rather than lose actions
            ready = pending[:1]
        for action in ready:
            ordered.append(action)
            done.add(action.uuid)
        pending = [a for a in pending if a.uuid not in done]
    return ordered


def refusal(action: WatcherAction) -> str | None:
    """Why AOS does not run this action (None: it is a live migration it runs)."""
    params = action.parameters
    if action.action_type != MIGRATE:
        return f"action {action.uuid}: type {action.action_type!r} is not applied by AOS " \
               "(only live migrations are)"
    if params.get("migration_type", LIVE) != LIVE:
        return f"action {action.uuid}: {params.get('migration_type')} migration refused " \
               "(only live migrations are applied)"
    if not params.get("resource_id") or not params.get("source_node"):
        return f"action {action.uuid}: migrate without resource_id or source_node"
    if not params.get("destination_node"):
        return f"action {action.uuid}: no destination_node (AOS checks both hosts before " \
               "it sends a migration)"
    return None


def to_plan(plan: ActionPlan, servers: Mapping[str, Instance]) -> Plan:
    """The executor's plan for an action plan; ``servers``: the instances it names, as Nova
    has them now (missing: gone).

    A migration whose instance is gone, moved since the audit or cannot live-migrate is
    skipped with its reason; a refused action of an instance is skipped, other refused
    actions become warnings.
    """
    moves: list[LiveMigrate] = []
    skipped: list[NotPlanned] = []
    warnings: list[str] = []
    for action in in_order(plan.actions):
        resource = str(action.parameters.get("resource_id") or "")
        reason = refusal(action)
        instance = servers.get(resource)
        if reason is None:
            source = str(action.parameters["source_node"])
            if instance is None:
                reason = f"action {action.uuid}: instance {resource} no longer exists"
            elif instance.host != source:
                reason = (f"action {action.uuid}: {instance.name} is on {instance.host}, "
                          f"not on {source} as the audit saw it")
            elif instance.not_movable:
                reason = f"action {action.uuid}: {instance.name}: {instance.not_movable}"
            else:
                moves.append(LiveMigrate(instance,
                                         str(action.parameters["destination_node"])))
                continue
        if action.action_type in HARMLESS_TYPES:
            continue
        if instance is not None:
            skipped.append(NotPlanned(instance, reason))
        else:
            warnings.append(f"action plan {plan.uuid}: {reason}")
    return Plan(stages=(Stage(0, tuple(moves)),) if moves else (), skipped=tuple(skipped),
                warnings=tuple(warnings))


def resources_of(plan: ActionPlan) -> list[str]:
    """The instances the plan's actions name (to read from Nova before ``to_plan``)."""
    return sorted({str(a.parameters["resource_id"]) for a in plan.actions
                   if a.parameters.get("resource_id")})
