"""Operations on compute nodes that the API, the CLI (through the API) and periodic tasks share.

Maintenance, reserve, power devices, power and evacuation/shutdown requests, each with its
rules and the event that records who asked. ``by`` names the one who asks (e.g. "user 42");
functions that take a session run inside the caller's transaction, the others open their own.
Errors are the DB layer's ``NotFound`` / ``Conflict`` (the API answers 404 / 409) and
``PowerError``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from aos.crypto import SecretBox
from aos.db.retry import retry_on_deadlock
from cloud_manager.db import api as db_api
from cloud_manager.db.models import Node, PowerDevice, Task
from cloud_manager.ha.evacuation_plan import Strategy
from cloud_manager.ha.node_state import InvalidTransition, NodeState, mark
from cloud_manager.ha.priority import resolve_priority
from cloud_manager.model.inventory import InstanceRecord
from cloud_manager.model.task_state import TaskKind, TaskState
from cloud_manager.provisioning.pxe_config import normalize_mac
from cloud_manager.runtime import Runtime

LOG = logging.getLogger(__name__)

# A node in these states may still run its instances: evacuating it needs "force".
ALIVE_STATES = frozenset({NodeState.UP, NodeState.SUSPECT, NodeState.RECOVERING})
# A shutdown needs a node that runs (recovering ones are not back in service yet).
RUNNING_STATES = frozenset({NodeState.UP, NodeState.SUSPECT})
# Power actions that may start a node again: refused while a task evacuates it.
POWER_ON_ACTIONS = frozenset({"on", "cycle"})
POWER_ACTIONS = ("on", "off", "status", "cycle")


def action_message(what: str, by: str, reason: str | None) -> str:
    """An action event's message: what, who, and why if the caller said."""
    return f"{what} by {by}" + (f": {reason}" if reason else "")


def _switch(on: bool) -> str:
    return "on" if on else "off"


def set_maintenance(session: Session, row: Node, on: bool, reason: str | None, by: str,
                    now: float | None = None) -> None:
    """Move the node to maintenance (or back to up) through the state machine's rules.

    Asking for the state the node is already in changes nothing; any other move the state
    machine refuses (e.g. a down node straight to up) is a Conflict that says what is allowed.
    """
    target = NodeState.MAINTENANCE if on else NodeState.UP
    if row.state == target:
        return
    why = reason or f"maintenance {_switch(on)} requested by {by}"
    try:
        record, transition = mark(db_api.record_of(row), target, why,
                                  time.time() if now is None else now)
    except InvalidTransition as exc:
        raise db_api.Conflict(str(exc)) from None
    db_api.save_record(session, row, record, transition)
    row.maintenance = on
    db_api.add_event(session, row.hostname, "action",
                     action_message(f"maintenance {_switch(on)}", by, reason))


def set_reserve(session: Session, row: Node, on: bool, reason: str | None, by: str) -> None:
    """Put the node into or out of the reserve pool; not while a task works on it."""
    if row.reserve == on:
        return
    active = db_api.active_task(session, row.hostname)
    if active is not None:
        raise db_api.Conflict(f"node {row.hostname!r} has an active task {active.id} "
                              f"({active.state}): change the reserve after it finishes")
    row.reserve = on
    db_api.add_event(session, row.hostname, "action",
                     action_message(f"reserve {_switch(on)}", by, reason))


def add_power_device(session: Session, secrets: SecretBox, by: str, *, name: str, driver: str,
                     address: str, port: int | None = None, username: str | None = None,
                     password: str | None = None, hostname: str | None = None,
                     options: dict[str, Any] | None = None) -> PowerDevice:
    """A new power device, its password stored encrypted (``SecretKeyError`` without a usable
    key); adding it to a node is recorded there. Two devices never share a name or a node."""
    secret = secrets.encrypt(password) if password else None
    row = db_api.add_power_device(session, name=name, driver=driver, address=address,
                                  port=port, username=username, secret=secret,
                                  hostname=hostname, options=options)
    if row.hostname:
        db_api.add_event(session, row.hostname, "action",
                         action_message(f"power device {row.name} ({row.driver}) added", by,
                                        None))
    return row


def delete_power_device(session: Session, name: str, by: str) -> None:
    """Remove a power device; removing it from a node is recorded there."""
    row = db_api.power_device(session, name)
    if row.hostname:
        db_api.add_event(session, row.hostname, "action",
                         action_message(f"power device {row.name} deleted", by, None))
    db_api.delete_power_device(session, row)


def recovery_priorities(instances: list[InstanceRecord], default: int) -> dict[str, int]:
    """Each instance's recovery priority, as an evacuation would order it."""
    return {i.id: resolve_priority(i.metadata, i.flavor_extra_specs, default).value
            for i in instances}


def power(runtime: Runtime, device_name: str, action: str, by: str) -> str:
    """Power the device's node on, off or cycle it (or only read it); its power state then.

    Raises PowerError when the device fails (and SecretKeyError when its password cannot be
    decrypted); every action but a status read is recorded on the node.
    """
    if action not in POWER_ACTIONS:
        raise ValueError(f"unknown power action {action!r}")
    with runtime.transaction() as session:
        device = db_api.power_device(session, device_name)
        hostname = device.hostname
        active = db_api.active_task(session, hostname) if hostname else None
        if active is not None and action in POWER_ON_ACTIONS:
            # Started again, the node would run the instances being rebuilt elsewhere.
            raise db_api.Conflict(
                f"node {hostname!r} has an active task {active.id} ({active.state}): power "
                f"{action} is refused until it ends")
    with runtime.power_driver(device) as driver:
        if action == "on":
            driver.power_on()
        elif action == "off":
            driver.power_off()
        elif action == "cycle":
            driver.power_cycle()
        power_state = driver.power_state()
    if action != "status" and hostname:
        with runtime.transaction() as session:
            db_api.add_event(session, hostname, "action",
                             action_message(f"power {action} through {device_name}", by,
                                            f"now {power_state}"))
    return power_state


def _check_fenceable(runtime: Runtime, session: Session, hostname: str,
                     state: NodeState) -> None:
    """A manual evacuation without ``force`` keeps the automatic one's rule: the node must
    be one CloudManager can make sure is off (power device, or the storage proof). Fenced,
    evacuating and evacuated nodes were made sure of and have not reported since."""
    if state in ALIVE_STATES:
        raise db_api.Conflict(f"node {hostname!r} is {state}: it may still run its "
                              "instances; pass force to evacuate it anyway (you confirm the "
                              "node is off)")
    if (state == NodeState.DOWN and db_api.power_device_of(session, hostname) is None
            and not runtime.conf.extra_availability_check.enabled):
        raise db_api.Conflict(
            f"node {hostname!r} has no power device and [extra_availability_check] is "
            "disabled: CloudManager cannot make sure it is off (a silent nova-compute is no "
            "proof); power it off and pass force to confirm that it is")


def request_task(runtime: Runtime, hostname: str, kind: TaskKind, *,
                 strategy: str | None = None, reason: str | None = None, by: str | None = None,
                 force: bool = False, dispatch: Callable[[str], None] | None = None) -> dict:
    """Create the durable host task and hand it to a worker; the task's summary.

    MANUAL refuses a node that may still run its instances unless ``force``; SHUTDOWN needs a
    running node with a power device; nothing acts on a node in maintenance. ``by``: the
    reason names who asked (the tracker's own reasons say it already).
    """
    strategy = Strategy(strategy or runtime.conf.host_tasks.evacuation_strategy)
    what = {TaskKind.SHUTDOWN: "planned shutdown", TaskKind.MANUAL: "manual evacuation"}.get(
        kind, "automatic evacuation")
    if by is not None:
        reason = f"{reason} (requested by {by})" if reason else f"{what} requested by {by}"
    reason = reason or what
    summary = _create_task(runtime, hostname, kind, strategy, reason, force)
    LOG.info("node %s: host task %s created (%s)", hostname, summary["id"], reason)
    try:
        (dispatch or runtime.dispatch_task)(summary["id"])
    except Exception as exc:  # noqa: BLE001 - the task is durable; the tracker re-dispatches it
        LOG.warning("task %s stored but not queued (%s); the node tracker will queue it",
                    summary["id"], exc)
    return summary


@retry_on_deadlock
def _create_task(runtime: Runtime, hostname: str, kind: TaskKind, strategy: Strategy,
                 reason: str, force: bool) -> dict:
    """The rules and the insert in one transaction, the node's row locked first (a task
    ending locks it first too); run again if the database picks it as a deadlock victim."""
    with runtime.transaction() as session:
        # Locked: the tracker cannot change the node between the rules and the insert.
        node = db_api.node(session, hostname, lock=True)
        state = NodeState(node.state)
        if kind == TaskKind.MANUAL and not force:
            _check_fenceable(runtime, session, hostname, state)
        if kind == TaskKind.SHUTDOWN and state not in RUNNING_STATES:
            raise db_api.Conflict(f"node {hostname!r} is {state}, not running: use "
                                  "evacuate for a node that is already down")
        if node.maintenance:
            raise db_api.Conflict(f"node {hostname!r} is in maintenance: CloudManager does "
                                  "not act on it; turn maintenance off first")
        if kind == TaskKind.SHUTDOWN and db_api.power_device_of(session, hostname) is None:
            raise db_api.Conflict(f"node {hostname!r} has no power device: CloudManager "
                                  "cannot shut it down")
        task = db_api.create_task(
            session, hostname=hostname, kind=kind, strategy=strategy, reason=reason,
            lease=timedelta(seconds=runtime.conf.host_tasks.task_lease_time))
        requested = "shutdown with evacuation" if kind == TaskKind.SHUTDOWN else "evacuation"
        db_api.add_event(session, hostname, "action",
                         f"{requested} requested ({task.kind}, {strategy}): {reason}; "
                         f"task {task.id}")
        return {"id": task.id, "kind": task.kind, "hostname": hostname,
                "state": task.state, "strategy": strategy, "reason": reason}


def add_node(runtime: Runtime, hostname: str, mac: str, by: str, *, device: str | None = None,
             new_device: dict[str, Any] | None = None, reserve: bool = False,
             dispatch: Callable[[str], None] | None = None) -> tuple[dict, bool]:
    """Register a bare node by MAC and power device and start its provisioning task; the
    task's summary, and whether a new task was created.

    ``device`` names an existing power device, ``new_device`` is one to create (the fields
    of ``add_power_device``). Running it again for the same node and MAC returns the active
    task, or resumes a failed one with a new task; a node already added, a hostname known to
    CloudManager otherwise, or a MAC of another node is a Conflict.
    """
    mac = normalize_mac(mac)
    summary, created = _add_node(runtime, hostname, mac, by, device, new_device, reserve)
    if created:
        LOG.info("node %s (%s): provisioning task %s created", hostname, mac, summary["id"])
        try:
            (dispatch or runtime.dispatch_task)(summary["id"])
        except Exception as exc:  # noqa: BLE001 - the task is durable; the tracker re-queues it
            LOG.warning("task %s stored but not queued (%s); the node tracker will queue it",
                        summary["id"], exc)
    return summary, created


@retry_on_deadlock
def _add_node(runtime: Runtime, hostname: str, mac: str, by: str, device: str | None,
              new_device: dict[str, Any] | None, reserve: bool) -> tuple[dict, bool]:
    with runtime.transaction() as session:
        owner = db_api.provisioning_by_mac(session, mac)
        if owner is not None and owner.hostname != hostname:
            raise db_api.Conflict(f"MAC {mac} is already registered for node {owner.hostname!r}")
        record = db_api.provisioning(session, hostname)
        if record is not None and record.mac != mac:
            raise db_api.Conflict(f"node {hostname!r} was added with MAC {record.mac}, "
                                  f"not {mac}")
        if record is None:
            if db_api.find_node(session, hostname) is not None:
                raise db_api.Conflict(f"node {hostname!r} is already known to CloudManager "
                                      "(it runs nova-compute): nothing to provision")
            db_api.add_bare_node(session, hostname, f"being provisioned (requested by {by})")
            db_api.add_provisioning(session, hostname, mac, reserve)
        else:
            last = db_api.last_task(session, hostname)
            if last is not None and last.state in db_api.ACTIVE_TASK_STATES:
                return _summary(last), False
            if last is not None and last.state == TaskState.DONE:
                raise db_api.Conflict(f"node {hostname!r} ({mac}) was already added by task "
                                      f"{last.id}")
            record.reserve = reserve
        _bind_device(session, runtime.secrets, hostname, by, device, new_device)
        where = "the reserve pool" if reserve else "service"
        task = db_api.create_task(
            session, hostname=hostname, kind=TaskKind.PROVISIONING,
            strategy="reserve" if reserve else "service",
            reason=f"bare node {mac} added by {by}, then into {where}",
            lease=timedelta(seconds=runtime.conf.host_tasks.task_lease_time))
        db_api.add_event(session, hostname, "action",
                         f"provisioning {'resumed' if record else 'requested'} by {by}: MAC "
                         f"{mac}, then into {where}; task {task.id}")
        return _summary(task), True


def _bind_device(session: Session, secrets: SecretBox, hostname: str, by: str,
                 device: str | None, new_device: dict[str, Any] | None) -> None:
    """The node's power device: the one it has, an existing one bound to it, or a new one."""
    current = db_api.power_device_of(session, hostname)
    wanted = device or (new_device or {}).get("name")
    if current is not None:
        if wanted and wanted != current.name:
            raise db_api.Conflict(f"node {hostname!r} already has power device "
                                  f"{current.name!r}")
        return
    if new_device is not None:
        add_power_device(session, secrets, by, **{**new_device, "hostname": hostname})
        return
    if device is None:
        raise db_api.Conflict(f"node {hostname!r} has no power device: name one or "
                              "describe a new one")
    row = db_api.power_device(session, device)
    if row.hostname is not None:
        raise db_api.Conflict(f"power device {device!r} powers node {row.hostname!r}")
    row.hostname = hostname
    db_api.add_event(session, hostname, "action",
                     action_message(f"power device {row.name} ({row.driver}) bound", by, None))


def _summary(task: Task) -> dict:
    return {"id": task.id, "kind": task.kind, "hostname": task.hostname, "state": task.state,
            "strategy": task.strategy, "reason": task.reason}
