"""JSON views of CloudManager rows: what the API shows, and what it never shows (secrets)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from aos.crypto import REDACTED
from cloud_manager.db.models import Node, NodeEvent, PowerDevice, StorageSync, Task, TaskItem
from cloud_manager.inventory.capacity import free, used
from cloud_manager.model.inventory import HostRecord, InstanceRecord
from cloud_manager.model.storage import PoolRecord
from cloud_manager.model.task_state import FINAL_ITEM_STATES, FINAL_TASK_STATES


def timestamp(moment: datetime | None) -> str | None:
    """ISO-8601 in UTC with a "Z": the database stores naive UTC datetimes."""
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="milliseconds") + "Z"


def node(row: Node, host: HostRecord | None = None, instances: int | None = None,
         held: dict[str, int] | None = None) -> dict[str, Any]:
    """The node's row; with the inventory's host (``held``: what its instances hold), also
    its hypervisor hostname, instance count and free RAM."""
    room = free(host, held) if host is not None else {}
    return {
        "hostname": row.hostname,
        "state": row.state,
        "state_reason": row.state_reason,
        "state_since": timestamp(row.state_since),
        "reserve": row.reserve,
        "maintenance": row.maintenance,
        "failed_checks": row.failed_checks,
        "ok_checks": row.ok_checks,
        "created_at": timestamp(row.created_at),
        "updated_at": timestamp(row.updated_at),
        "hypervisor_hostname": host.hypervisor_hostname if host else None,
        "instances": instances if host is not None else None,
        "free_ram_mb": room.get("MEMORY_MB"),
    }


def node_detail(row: Node, events: list[NodeEvent], device: PowerDevice | None,
                active: Task | None, host: HostRecord | None = None,
                instances: list[InstanceRecord] | None = None,
                priorities: dict[str, int] | None = None,
                last_sync: datetime | None = None) -> dict[str, Any]:
    instances = instances or []
    held = {"MEMORY_MB": sum(i.ram_mb for i in instances),
            "VCPU": sum(i.vcpus for i in instances),
            "DISK_GB": sum(i.disk_gb for i in instances)}
    return {
        **node(row, host, len(instances), held),
        "power_device": device.name if device else None,
        "active_task": active.id if active else None,
        "inventory": None if host is None else inventory(host, instances, held,
                                                         priorities or {}, last_sync),
        "events": [event(e) for e in events],
    }


def inventory(host: HostRecord, instances: list[InstanceRecord], held: dict[str, int],
              priorities: dict[str, int], last_sync: datetime | None) -> dict[str, Any]:
    """What the inventory holds of a host: Nova's service state, Placement's capacity
    (``used``: the larger of Placement's usage at the last sync and the instances now) and
    the instances the listener and node_sync know on it."""
    use, room = used(host, held), free(host, held)
    return {
        "hypervisor_hostname": host.hypervisor_hostname,
        "enabled": host.enabled,
        "forced_down": host.forced_down,
        "disabled_reason": host.disabled_reason,
        "availability_zone": host.az,
        "aggregates": list(host.aggregates),
        "resources": {rc: {"total": r.total, "reserved": r.reserved,
                           "allocation_ratio": r.allocation_ratio, "used": use.get(rc, 0),
                           "free": room.get(rc, 0)} for rc, r in host.resources.items()},
        "free_since": timestamp(host.free_since),
        "changed_at": timestamp(host.changed_at),
        "last_sync": timestamp(last_sync),
        "instances": [{"id": i.id, "name": i.name, "state": i.state,
                       "task_state": i.task_state, "ram_mb": i.ram_mb, "vcpus": i.vcpus,
                       "disk_gb": i.disk_gb, "recovery_priority": priorities.get(i.id, 0),
                       "changed_at": timestamp(i.changed_at)}
                      for i in sorted(instances, key=lambda i: (i.name, i.id))],
    }


def event(row: NodeEvent) -> dict[str, Any]:
    return {
        "id": row.id,
        "hostname": row.hostname,
        "kind": row.kind,
        "from_state": row.from_state,
        "to_state": row.to_state,
        "message": row.message,
        "created_at": timestamp(row.created_at),
    }


def power_device(row: PowerDevice) -> dict[str, Any]:
    """The device with its password replaced by a marker: the secret never leaves the DB."""
    return {
        "name": row.name,
        "driver": row.driver,
        "address": row.address,
        "port": row.port,
        "username": row.username,
        "password": REDACTED if row.secret else None,
        "hostname": row.hostname,
        "options": json.loads(row.options) if row.options else {},
        "created_at": timestamp(row.created_at),
        "updated_at": timestamp(row.updated_at),
    }


def task(row: Task) -> dict[str, Any]:
    return {
        "id": row.id,
        "kind": row.kind,
        "hostname": row.hostname,
        "state": row.state,
        "strategy": row.strategy,
        "reason": row.reason,
        "message": row.message,
        "created_at": timestamp(row.created_at),
        "updated_at": timestamp(row.updated_at),
        "finished_at": timestamp(row.finished_at),
    }


def task_detail(row: Task) -> dict[str, Any]:
    """The task with its items, item counts per state and progress (finished / all items)."""
    items = list(row.items)
    counts: dict[str, int] = {}
    for item in items:
        counts[item.state] = counts.get(item.state, 0) + 1
    finished = sum(1 for item in items if item.state in FINAL_ITEM_STATES)
    return {
        **task(row),
        "items": [task_item(item) for item in items],
        "counts": counts,
        "total": len(items),
        "finished": finished,
        "progress": _progress(row, finished, len(items)),
    }


def _progress(row: Task, finished: int, total: int) -> int:
    """0-100; a finished task without items (an empty host) is complete, not stuck at 0."""
    if total == 0:
        return 100 if row.state in FINAL_TASK_STATES else 0
    return 100 * finished // total


def task_item(row: TaskItem) -> dict[str, Any]:
    return {
        "instance_id": row.instance_id,
        "instance_name": row.instance_name,
        "priority": row.priority,
        "target_host": row.target_host,
        "pool": row.pool,
        "state": row.state,
        "attempts": row.attempts,
        "message": row.message,
    }


def storage_pool(pool: PoolRecord) -> dict[str, Any]:
    return {
        "name": pool.name,
        "backend": pool.backend,
        "volume_backend_name": pool.volume_backend_name,
        "total_capacity_gb": pool.total_gb,
        "free_capacity_gb": pool.free_gb,
        "allocated_capacity_gb": pool.allocated_gb,
        "enabled": pool.enabled,
        "state": pool.state.value,
        "state_reason": pool.state_reason,
        "state_since": timestamp(pool.state_since),
        "hosts": list(pool.hosts),
        "reported_at": timestamp(pool.reported_at),
    }


def storage_sync(row: StorageSync | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {"finished_at": timestamp(row.finished_at), "ok": row.ok, "pools": row.pools,
            "message": row.message}


def storage_pool_detail(pool: PoolRecord, last: StorageSync | None,
                        last_good: StorageSync | None) -> dict[str, Any]:
    """The pool and the last syncs: a failed last sync means the figures may be old."""
    return {**storage_pool(pool), "last_sync": storage_sync(last),
            "last_good_sync": storage_sync(last_good)}
