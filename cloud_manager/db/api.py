"""Reading and writing CloudManager state; callers own the transaction (aos.db.transaction)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from aos.db.clock import db_utcnow
from cloud_manager.db.models import (
    InventoryHost,
    InventoryInstance,
    InventorySync,
    Node,
    NodeEvent,
    NodeProvisioning,
    PowerDevice,
    StoragePool,
    StorageSync,
    Task,
    TaskItem,
    utcnow,
)
from cloud_manager.ha.node_state import NodeRecord, NodeState, Transition
from cloud_manager.model.inventory import (
    HostRecord,
    InstanceRecord,
    Resource,
    ServiceRecord,
)
from cloud_manager.model.storage import Capacity, PoolRecord, PoolState
from cloud_manager.model.task_state import (
    ACTIVE_TASK_STATES,
    EXCLUDES,
    FINAL_TASK_STATES,
    INITIAL_ITEM_STATES,
    TASK_PREDECESSORS,
    ItemState,
    TaskKind,
    TaskState,
    check_item_move,
    check_task_move,
)

__all__ = ["ACTIVE_TASK_STATES", "FINAL_TASK_STATES", "db_utcnow"]


class NotFound(LookupError):
    pass


class Conflict(Exception):
    pass


class LeaseLost(Exception):
    """This worker no longer holds the task: another worker took it over."""


def to_timestamp(moment: datetime) -> float:
    return moment.replace(tzinfo=UTC).timestamp()


def from_timestamp(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC).replace(tzinfo=None)


# --- nodes ---------------------------------------------------------------------------------

def nodes(session: Session) -> list[Node]:
    return list(session.scalars(sa.select(Node).order_by(Node.hostname)))


def node(session: Session, hostname: str, lock: bool = False) -> Node:
    """The node's row; ``lock``: held until the transaction ends (decide and act as one)."""
    query = sa.select(Node).where(Node.hostname == hostname)
    if lock:
        query = query.with_for_update()
    found = session.scalar(query)
    if found is None:
        raise NotFound(f"no compute node {hostname!r}")
    return found


def find_node(session: Session, hostname: str) -> Node | None:
    return session.scalar(sa.select(Node).where(Node.hostname == hostname))


def ensure_nodes(session: Session, hostnames: list[str]) -> dict[str, Node]:
    """Rows for every host Nova knows; a new host starts ``up``."""
    known = {n.hostname: n for n in nodes(session)}
    for hostname in hostnames:
        if hostname not in known:
            known[hostname] = Node(hostname=hostname, state=NodeState.UP.value,
                                   state_reason="discovered in Nova", state_since=utcnow())
            session.add(known[hostname])
            add_event(session, hostname, "discovered", "compute node discovered in Nova")
    session.flush()
    return known


def add_bare_node(session: Session, hostname: str, reason: str) -> Node:
    """A node not in Nova yet, held in maintenance while it is provisioned: the tracker and
    node_sync leave it alone until its provisioning task puts it in service."""
    row = Node(hostname=hostname, state=NodeState.MAINTENANCE.value, maintenance=True,
               state_reason=reason, state_since=utcnow())
    session.add(row)
    session.flush()
    return row


def provisioning(session: Session, hostname: str) -> NodeProvisioning | None:
    return session.get(NodeProvisioning, hostname)


def provisioning_by_mac(session: Session, mac: str) -> NodeProvisioning | None:
    return session.scalar(sa.select(NodeProvisioning).where(NodeProvisioning.mac == mac))


def add_provisioning(session: Session, hostname: str, mac: str,
                     reserve: bool) -> NodeProvisioning:
    row = NodeProvisioning(hostname=hostname, mac=mac, reserve=reserve)
    session.add(row)
    session.flush()
    return row


def record_of(row: Node) -> NodeRecord:
    return NodeRecord(host=row.hostname, state=NodeState(row.state),
                      failed_checks=row.failed_checks, ok_checks=row.ok_checks,
                      since=to_timestamp(row.state_since), reason=row.state_reason or "")


def save_record(session: Session, row: Node, record: NodeRecord,
                transition: Transition | None) -> None:
    row.state = record.state.value
    row.failed_checks = record.failed_checks
    row.ok_checks = record.ok_checks
    row.state_reason = record.reason
    row.state_since = from_timestamp(record.since)
    if transition is not None:
        session.add(NodeEvent(hostname=row.hostname, kind="transition",
                              from_state=transition.from_state.value,
                              to_state=transition.to_state.value, message=transition.reason))


def add_event(session: Session, hostname: str | None, kind: str, message: str) -> None:
    session.add(NodeEvent(hostname=hostname, kind=kind, message=message))


def events(session: Session, hostname: str | None = None, kind: str | None = None,
           limit: int = 100) -> list[NodeEvent]:
    query = sa.select(NodeEvent).order_by(NodeEvent.id.desc()).limit(limit)
    if hostname:
        query = query.where(NodeEvent.hostname == hostname)
    if kind:
        query = query.where(NodeEvent.kind == kind)
    return list(session.scalars(query))


# --- power devices -------------------------------------------------------------------------

def power_devices(session: Session) -> list[PowerDevice]:
    return list(session.scalars(sa.select(PowerDevice).order_by(PowerDevice.name)))


def power_device(session: Session, name: str) -> PowerDevice:
    found = session.scalar(sa.select(PowerDevice).where(PowerDevice.name == name))
    if found is None:
        raise NotFound(f"no power device {name!r}")
    return found


def power_device_of(session: Session, hostname: str) -> PowerDevice | None:
    return session.scalar(sa.select(PowerDevice).where(PowerDevice.hostname == hostname))


def delete_power_device(session: Session, device: PowerDevice) -> None:
    session.delete(device)


def add_power_device(session: Session, *, name: str, driver: str, address: str,
                     port: int | None, username: str | None, secret: str | None,
                     hostname: str | None, options: dict[str, Any] | None) -> PowerDevice:
    if session.scalar(sa.select(PowerDevice.id).where(PowerDevice.name == name)):
        raise Conflict(f"power device {name!r} already exists")
    if hostname and power_device_of(session, hostname):
        raise Conflict(f"node {hostname!r} already has a power device")
    device = PowerDevice(name=name, driver=driver, address=address, port=port,
                         username=username, secret=secret, hostname=hostname,
                         options=json.dumps(options) if options else None)
    session.add(device)
    session.flush()
    return device


# --- tasks ---------------------------------------------------------------------------------

def active_task(session: Session, hostname: str) -> Task | None:
    return session.scalar(sa.select(Task).where(Task.hostname == hostname,
                                                Task.state.in_(ACTIVE_TASK_STATES)))


def active_tasks_of(session: Session, kind: str) -> list[Task]:
    """The active tasks of one kind, oldest first."""
    return list(session.scalars(sa.select(Task).where(
        Task.kind == str(kind), Task.state.in_(ACTIVE_TASK_STATES)).order_by(Task.created_at)))


def refuse_beside_excluded(session: Session, kind: TaskKind) -> None:
    """Conflict when a task of a kind that ``kind`` excludes (``EXCLUDES``) is active."""
    other = EXCLUDES.get(kind)
    running = active_tasks_of(session, other) if other else []
    if running:
        raise Conflict(f"a {other} task is running ({running[0].id}, on "
                       f"{running[0].hostname}): {kind} waits until it ends")


def create_task(session: Session, *, hostname: str, kind: str, strategy: str,
                reason: str, lease: timedelta) -> Task:
    """A new pending task; Conflict when the node has an active one.

    The unique ``active_node`` column refuses the second one (no check-then-insert that two
    requests could pass at once). A worker must take the task within ``lease`` (on the
    database's clock), else the tracker queues it again.
    """
    # Plain strings in the rows (enum members are str subclasses some drivers do not adapt).
    task = Task(id=str(uuid.uuid4()), kind=str(kind), hostname=hostname, active_node=hostname,
                state=TaskState.PENDING.value, strategy=str(strategy), reason=reason,
                message="waiting for a worker", lease_until=db_utcnow(lease.total_seconds()))
    session.add(task)
    try:
        with session.begin_nested():
            session.flush()
    except sa_exc.IntegrityError:
        raise Conflict(f"node {hostname!r} already has an active task") from None
    return task


def task(session: Session, task_id: str, lock: bool = False) -> Task:
    query = sa.select(Task).where(Task.id == task_id)
    if lock:
        query = query.with_for_update()
    found = session.scalar(query)
    if found is None:
        raise NotFound(f"no task {task_id!r}")
    return found


def last_task(session: Session, hostname: str) -> Task | None:
    """The node's newest task, whatever its state."""
    return session.scalar(sa.select(Task).where(Task.hostname == hostname)
                          .order_by(Task.created_at.desc()).limit(1))


def tasks(session: Session, hostname: str | None = None, state: str | None = None,
          limit: int = 100) -> list[Task]:
    query = sa.select(Task).order_by(Task.created_at.desc()).limit(limit)
    if hostname:
        query = query.where(Task.hostname == hostname)
    if state:
        query = query.where(Task.state == state)
    return list(session.scalars(query))


def claim_task(session: Session, task_id: str, owner: str, lease: timedelta) -> Task | None:
    """Take the task's lease if it is free, expired or already ours; None if it is final or
    someone holds it. One conditional UPDATE, expiry judged on the database's clock.

    Raises ``NotFound`` when the task is not in the database."""
    free = sa.or_(Task.owner.is_(None), Task.owner == owner, Task.lease_until.is_(None),
                  Task.lease_until < db_utcnow())
    result = session.execute(
        sa.update(Task).where(Task.id == task_id, Task.state.in_(ACTIVE_TASK_STATES), free)
        .values(owner=owner, lease_until=db_utcnow(lease.total_seconds()))
        .execution_options(synchronize_session=False))
    row = session.scalar(sa.select(Task).where(Task.id == task_id)
                         .execution_options(populate_existing=True))
    if row is None:
        raise NotFound(f"no task {task_id!r}")
    return row if result.rowcount == 1 else None


def hold_task(session: Session, task_id: str, owner: str, lease: timedelta,
              to_state: TaskState | None = None, **values: Any) -> None:
    """Extend ``owner``'s lease, or raise ``LeaseLost`` when another worker took the task over
    (or it ended). One conditional UPDATE; inside a transaction it also locks the task's row
    until the commit, so what the transaction writes is written by the owner.

    It also moves the task to ``to_state`` (along ``TASK_TRANSITIONS``) and sets ``values``,
    so the check rides on the update a step makes anyway."""
    conditions = [Task.id == task_id, Task.owner == owner, Task.state.in_(ACTIVE_TASK_STATES)]
    if to_state is not None:
        conditions.append(Task.state.in_(TASK_PREDECESSORS[TaskState(to_state)]))
        values["state"] = TaskState(to_state).value
    result = session.execute(
        sa.update(Task).where(*conditions)
        .values(lease_until=db_utcnow(lease.total_seconds()), **values)
        .execution_options(synchronize_session=False))
    if result.rowcount == 1:
        return
    row = session.scalar(sa.select(Task).where(Task.id == task_id))
    if to_state is not None and row is not None and row.owner == owner and (
            row.state in ACTIVE_TASK_STATES):
        check_task_move(task_id, row.state, to_state)  # raises: the move is not allowed
    raise LeaseLost(f"task {task_id} is no longer held by {owner}")


def take_orphaned_tasks(session: Session, lease_seconds: int) -> list[str]:
    """Active tasks no live worker holds — its lease expired (the worker died), or nobody took
    the task within a lease time of its creation (the message was lost) — released for a new
    dispatch; they are not returned again for another lease time, whoever takes them. Expiry
    is judged on the database's clock."""
    found = list(session.scalars(sa.select(Task.id).where(
        Task.state.in_(ACTIVE_TASK_STATES),
        sa.or_(Task.lease_until.is_(None), Task.lease_until < db_utcnow()),
    ).with_for_update()))
    if found:
        session.execute(sa.update(Task).where(Task.id.in_(found))
                        .values(owner=None, lease_until=db_utcnow(lease_seconds))
                        .execution_options(synchronize_session=False))
    return found


def move_task(session: Session, row: Task, to_state: TaskState, message: str | None = None,
              **values: Any) -> None:
    """Change the task's state along ``TASK_TRANSITIONS`` (and the given columns)."""
    row.state = check_task_move(row.id, row.state, to_state).value
    if message is not None:
        row.message = message
    for key, value in values.items():
        setattr(row, key, value)


def end_task(session: Session, row: Task, to_state: TaskState, message: str) -> None:
    """Final state, lease and the node's active-task slot released, and the event that says
    how it ended. ``finished_at`` is on the database's clock, like power devices' changes."""
    move_task(session, row, to_state, message, finished_at=db_utcnow(), owner=None,
              lease_until=None, active_node=None)
    alert = to_state != TaskState.DONE
    what = {TaskKind.BALANCING: "balancing", TaskKind.DRS: "DRS",
            TaskKind.PROVISIONING: "provisioning"}.get(TaskKind(row.kind), "evacuation")
    add_event(session, row.hostname, "alert" if alert else "action",
              f"{what} task {row.id} {to_state}: {message}")


def items(session: Session, task_id: str) -> list[TaskItem]:
    """The task's items, highest priority first (the order they are worked on)."""
    return list(session.scalars(sa.select(TaskItem).where(TaskItem.task_id == task_id)
                                .order_by(TaskItem.priority.desc(), TaskItem.id)))


def move_item(session: Session, task_id: str, instance_id: str, from_state: ItemState,
              to_state: ItemState, **values: Any) -> bool:
    """One conditional UPDATE of one item (a task may hold hundreds): only if it is still in
    ``from_state``; False when it was not."""
    check_item_move(instance_id, from_state, to_state)
    result = session.execute(sa.update(TaskItem)
                             .where(TaskItem.task_id == task_id,
                                    TaskItem.instance_id == instance_id,
                                    TaskItem.state == from_state)
                             .values(state=ItemState(to_state).value, updated_at=utcnow(),
                                     **values))
    return result.rowcount == 1


def item_counts(row: Task) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in row.items:
        counts[item.state] = counts.get(item.state, 0) + 1
    return counts


def add_items(session: Session, task_id: str, items: list[TaskItem]) -> None:
    for item in items:
        if ItemState(item.state) not in INITIAL_ITEM_STATES:
            raise ValueError(f"item {item.instance_id} cannot start {item.state}")
        item.state = str(item.state)
        if item.action is not None:
            item.action = str(item.action)
        item.task_id = task_id
        session.add(item)
    session.flush()


# --- inventory -----------------------------------------------------------------------------

# Rows per IN (...) list: well under every backend's limit on bound parameters.
_CHUNK = 500


def _chunks(keys: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(keys), _CHUNK):
        yield keys[start:start + _CHUNK]


def _instance_record(row: InventoryInstance) -> InstanceRecord:
    details = json.loads(row.details)
    return InstanceRecord(
        id=row.id, name=row.name, host=row.host, node=row.node, state=row.state,
        task_state=row.task_state, ram_mb=row.ram_mb, vcpus=row.vcpus, disk_gb=row.disk_gb,
        az=row.az, metadata=details.get("metadata", {}),
        flavor_extra_specs=details.get("flavor_extra_specs", {}), deleted=row.deleted,
        changed_at=row.changed_at)


def _instance_values(record: InstanceRecord) -> dict[str, Any]:
    return {"id": record.id, "name": record.name[:255], "host": record.host,
            "node": record.node, "state": record.state, "task_state": record.task_state,
            "ram_mb": record.ram_mb, "vcpus": record.vcpus, "disk_gb": record.disk_gb,
            "az": record.az, "deleted": record.deleted, "changed_at": record.changed_at,
            "details": json.dumps({"metadata": dict(record.metadata),
                                   "flavor_extra_specs": dict(record.flavor_extra_specs)},
                                  sort_keys=True)}


def inventory_instances(session: Session, ids: Iterable[str] | None = None,
                        host: str | None = None) -> dict[str, InstanceRecord]:
    """Stored instances by id: all, those of ``ids``, or those on ``host`` (not deleted)."""
    query = sa.select(InventoryInstance)
    if host is not None:
        query = query.where(InventoryInstance.host == host,
                            InventoryInstance.deleted.is_(False))
    if ids is None:
        return {row.id: _instance_record(row) for row in session.scalars(query)}
    found: dict[str, InstanceRecord] = {}
    for chunk in _chunks(sorted(set(ids))):
        for row in session.scalars(query.where(InventoryInstance.id.in_(chunk))):
            found[row.id] = _instance_record(row)
    return found


def write_instances(session: Session, records: Iterable[InstanceRecord]) -> int:
    """Insert each record, or replace the stored one unless that holds a newer word
    (``changed_at``): several writers (the listeners of every controller, node_sync) never
    put an older word over a newer one. How many records were given. Bulk statements, not one
    ORM object per row: the listener writes hundreds at once (bench/listener). A row another
    writer inserted meanwhile is an IntegrityError: the caller's transaction goes again
    (``aos.db.retry.retry_on_conflict``)."""
    by_id = {record.id: record for record in records}
    existing: set[str] = set()
    for chunk in _chunks(sorted(by_id)):
        existing.update(session.scalars(sa.select(InventoryInstance.id)
                                        .where(InventoryInstance.id.in_(chunk))))
    new = [_instance_values(r) for key, r in by_id.items() if key not in existing]
    replaced = [_instance_values(r) for key, r in by_id.items() if key in existing]
    if new:
        session.execute(sa.insert(InventoryInstance), new)
    if replaced:
        table = InventoryInstance.__table__
        columns = [name for name in replaced[0] if name != "id"]
        session.execute(
            sa.update(table)
            .where(table.c.id == sa.bindparam("key"),
                   table.c.changed_at <= sa.bindparam("newer_than"))
            .values({name: sa.bindparam(f"new_{name}") for name in columns}),
            [{"key": v["id"], "newer_than": v["changed_at"],
              **{f"new_{name}": v[name] for name in columns}} for v in replaced])
        for row in list(session.identity_map.values()):  # loaded earlier: read them again
            if isinstance(row, InventoryInstance) and row.id in existing:
                session.expire(row)
    return len(by_id)


def place_instances(session: Session, hosts: Mapping[str, str], changed_at: datetime) -> None:
    """Record where known instances now run (a finished evacuation or live migration); the
    hypervisor node is left unknown until Nova's next word on the instance."""
    rows: dict[str, InventoryInstance] = {}
    for chunk in _chunks(sorted(hosts)):
        rows.update((row.id, row) for row in session.scalars(
            sa.select(InventoryInstance).where(InventoryInstance.id.in_(chunk),
                                               InventoryInstance.deleted.is_(False))))
    for key, row in sorted(rows.items()):
        if row.changed_at is None or row.changed_at <= changed_at:
            row.host, row.node, row.task_state = hosts[key], None, None
            row.changed_at = changed_at
    session.flush()


def remove_instances(session: Session, ids: Iterable[str]) -> None:
    for chunk in _chunks(sorted(set(ids))):
        session.execute(sa.delete(InventoryInstance).where(InventoryInstance.id.in_(chunk))
                        .execution_options(synchronize_session=False))


def instance_counts(session: Session) -> dict[str, int]:
    """Instances per host (deleted ones not counted)."""
    return dict(session.execute(
        sa.select(InventoryInstance.host, sa.func.count())
        .where(InventoryInstance.deleted.is_(False), InventoryInstance.host.is_not(None))
        .group_by(InventoryInstance.host)).all())


def instance_totals(session: Session) -> dict[str, dict[str, int]]:
    """Per host, the RAM, vCPUs and disk its instances hold (one aggregate query)."""
    rows = session.execute(
        sa.select(InventoryInstance.host, sa.func.sum(InventoryInstance.ram_mb),
                  sa.func.sum(InventoryInstance.vcpus), sa.func.sum(InventoryInstance.disk_gb))
        .where(InventoryInstance.deleted.is_(False), InventoryInstance.host.is_not(None))
        .group_by(InventoryInstance.host)).all()
    return {host: {"MEMORY_MB": int(ram or 0), "VCPU": int(vcpus or 0),
                   "DISK_GB": int(disk or 0)} for host, ram, vcpus, disk in rows}


def _host_record(row: InventoryHost) -> HostRecord:
    return HostRecord(
        hostname=row.hostname, hypervisor_hostname=row.hypervisor_hostname,
        enabled=row.enabled, forced_down=row.forced_down,
        disabled_reason=row.disabled_reason, az=row.az,
        aggregates=tuple(json.loads(row.aggregates)),
        resources={rc: Resource(**values) for rc, values in json.loads(row.resources).items()},
        free_since=row.free_since, changed_at=row.changed_at)


def inventory_hosts(session: Session) -> dict[str, HostRecord]:
    return {row.hostname: _host_record(row) for row in session.scalars(
        sa.select(InventoryHost).order_by(InventoryHost.hostname))}


def inventory_host(session: Session, hostname: str) -> HostRecord | None:
    row = session.get(InventoryHost, hostname)
    return None if row is None else _host_record(row)


def write_hosts(session: Session, records: Iterable[HostRecord]) -> None:
    for record in records:
        row = session.get(InventoryHost, record.hostname)
        if row is None:
            row = InventoryHost(hostname=record.hostname)
            session.add(row)
        row.hypervisor_hostname = record.hypervisor_hostname
        row.enabled, row.forced_down = record.enabled, record.forced_down
        row.disabled_reason, row.az = record.disabled_reason, record.az
        row.aggregates = json.dumps(list(record.aggregates))
        row.resources = json.dumps(
            {rc: {"total": r.total, "reserved": r.reserved,
                  "allocation_ratio": r.allocation_ratio, "used": r.used}
             for rc, r in sorted(record.resources.items())})
        row.free_since, row.changed_at = record.free_since, record.changed_at
    session.flush()


def remove_hosts(session: Session, hostnames: Iterable[str]) -> None:
    names = sorted(set(hostnames))
    if names:
        session.execute(sa.delete(InventoryHost).where(InventoryHost.hostname.in_(names))
                        .execution_options(synchronize_session=False))


def write_service_states(session: Session, services: Iterable[ServiceRecord]) -> list[str]:
    """A service update on hosts the inventory has, unless it holds a newer word; the hosts
    changed. (A host the inventory does not have yet comes with the next sync.)"""
    changed = []
    for service in services:
        row = session.get(InventoryHost, service.host)
        if row is None or row.changed_at > service.changed_at:
            continue
        row.enabled, row.forced_down = service.enabled, service.forced_down
        row.disabled_reason, row.changed_at = service.disabled_reason, service.changed_at
        changed.append(service.host)
    return changed


def add_sync(session: Session, *, started_at: datetime, hosts: int, instances: int,
             repairs: int, summary: str) -> InventorySync:
    row = InventorySync(started_at=started_at, finished_at=utcnow(), hosts=hosts,
                        instances=instances, repairs=repairs, summary=summary)
    session.add(row)
    session.flush()
    return row


def last_sync(session: Session) -> InventorySync | None:
    return session.scalar(sa.select(InventorySync).order_by(InventorySync.id.desc()).limit(1))


def sync_count(session: Session) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(InventorySync)) or 0


# --- storage pools -------------------------------------------------------------------------

def _capacity_text(value: Capacity) -> str | None:
    return None if value is None else str(value)


def _capacity(text: str | None) -> Capacity:
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        return text


def _pool_record(row: StoragePool) -> PoolRecord:
    return PoolRecord(
        name=row.name, backend=row.backend, volume_backend_name=row.volume_backend_name,
        total_gb=_capacity(row.total_gb), free_gb=_capacity(row.free_gb),
        allocated_gb=_capacity(row.allocated_gb), enabled=row.enabled,
        state=PoolState(row.state), state_reason=row.state_reason,
        state_since=row.state_since, hosts=tuple(json.loads(row.hosts)),
        reported_at=row.reported_at)


def storage_pools(session: Session) -> dict[str, PoolRecord]:
    return {row.name: _pool_record(row) for row in session.scalars(
        sa.select(StoragePool).order_by(StoragePool.name))}


def storage_pool(session: Session, name: str) -> PoolRecord:
    row = session.get(StoragePool, name)
    if row is None:
        raise NotFound(f"no storage pool {name!r} (storage_sync has not seen it)")
    return _pool_record(row)


def write_pools(session: Session, records: Iterable[PoolRecord]) -> None:
    for record in records:
        row = session.get(StoragePool, record.name)
        if row is None:
            row = StoragePool(name=record.name)
            session.add(row)
        row.backend, row.volume_backend_name = record.backend, record.volume_backend_name
        row.total_gb = _capacity_text(record.total_gb)
        row.free_gb = _capacity_text(record.free_gb)
        row.allocated_gb = _capacity_text(record.allocated_gb)
        row.enabled, row.state = record.enabled, record.state.value
        row.state_reason, row.state_since = record.state_reason, record.state_since
        row.hosts, row.reported_at = json.dumps(list(record.hosts)), record.reported_at
    session.flush()


def forget_pools(session: Session, names: Iterable[str]) -> None:
    names = list(names)
    if names:
        session.execute(sa.delete(StoragePool).where(StoragePool.name.in_(names)))


def add_storage_sync(session: Session, *, started_at: datetime, ok: bool, pools: int,
                     message: str) -> StorageSync:
    row = StorageSync(started_at=started_at, finished_at=utcnow(), ok=ok, pools=pools,
                      message=message)
    session.add(row)
    session.flush()
    return row


def last_storage_sync(session: Session, ok: bool | None = None) -> StorageSync | None:
    query = sa.select(StorageSync).order_by(StorageSync.id.desc()).limit(1)
    if ok is not None:
        query = query.where(StorageSync.ok == ok)
    return session.scalar(query)
