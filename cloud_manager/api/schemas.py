"""JSON schemas of what the CloudManager API answers (``cloud_manager.api.views``).

Published in the OpenAPI document so that clients and fuzzers can check every reply.
"""

from __future__ import annotations

from typing import Any

_TEXT = {"type": "string"}
_TEXT_OR_NULL = {"type": ["string", "null"]}
_TIME = {"type": "string", "format": "date-time"}
_TIME_OR_NULL = {"type": ["string", "null"], "format": "date-time"}
_COUNT = {"type": "integer", "minimum": 0}


def _object(**properties: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(properties)}


def array_of(schema: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": schema}


EVENT = _object(id=_COUNT, hostname=_TEXT_OR_NULL, kind=_TEXT, from_state=_TEXT_OR_NULL,
                to_state=_TEXT_OR_NULL, message=_TEXT, created_at=_TIME)

_NODE_FIELDS = {
    "hostname": _TEXT, "state": _TEXT, "state_reason": _TEXT_OR_NULL,
    "state_since": _TIME_OR_NULL, "reserve": {"type": "boolean"},
    "maintenance": {"type": "boolean"}, "failed_checks": _COUNT, "ok_checks": _COUNT,
    "created_at": _TIME, "updated_at": _TIME,
}
_COUNT_OR_NULL = {"type": ["integer", "null"], "minimum": 0}
# From the inventory (null: the host is not in it yet).
_NODE_INVENTORY_FIELDS = {"hypervisor_hostname": _TEXT_OR_NULL, "instances": _COUNT_OR_NULL,
                          "free_ram_mb": _COUNT_OR_NULL}
NODE = _object(**_NODE_FIELDS, **_NODE_INVENTORY_FIELDS)
RESOURCE = _object(total=_COUNT, reserved=_COUNT, allocation_ratio={"type": "number"},
                   used=_COUNT, free=_COUNT)
INVENTORY_INSTANCE = _object(id=_TEXT, name=_TEXT, state=_TEXT, task_state=_TEXT_OR_NULL,
                             ram_mb=_COUNT, vcpus=_COUNT, disk_gb=_COUNT,
                             recovery_priority={"type": "integer", "minimum": 0, "maximum": 10},
                             changed_at=_TIME)
NODE_INVENTORY = {"type": ["object", "null"], "properties": {
    "hypervisor_hostname": _TEXT_OR_NULL, "enabled": {"type": "boolean"},
    "forced_down": {"type": "boolean"}, "disabled_reason": _TEXT_OR_NULL,
    "availability_zone": _TEXT_OR_NULL, "aggregates": array_of(_TEXT),
    "resources": {"type": "object", "additionalProperties": RESOURCE},
    "free_since": _TIME_OR_NULL, "changed_at": _TIME, "last_sync": _TIME_OR_NULL,
    "instances": array_of(INVENTORY_INSTANCE)}}
NODE_DETAIL = _object(**_NODE_FIELDS, **_NODE_INVENTORY_FIELDS, power_device=_TEXT_OR_NULL,
                      active_task=_TEXT_OR_NULL, inventory=NODE_INVENTORY,
                      events=array_of(EVENT))

POWER_DEVICE = _object(
    name=_TEXT, driver=_TEXT, address=_TEXT, port={"type": ["integer", "null"]},
    username=_TEXT_OR_NULL, password={"type": ["string", "null"], "enum": ["***", None]},
    hostname=_TEXT_OR_NULL, options={"type": "object"}, created_at=_TIME, updated_at=_TIME)

POWER_ACTION_RESULT = _object(name=_TEXT, action=_TEXT,
                              power_state={"enum": ["on", "off", "unknown"]})

_TASK_FIELDS = {
    "id": _TEXT, "kind": _TEXT, "hostname": _TEXT, "state": _TEXT,
    "strategy": _TEXT_OR_NULL, "reason": _TEXT_OR_NULL, "message": _TEXT_OR_NULL,
    "created_at": _TIME, "updated_at": _TIME, "finished_at": _TIME_OR_NULL,
}
TASK = _object(**_TASK_FIELDS)
TASK_ITEM = _object(instance_id=_TEXT, instance_name=_TEXT_OR_NULL,
                    priority={"type": ["integer", "null"]}, target_host=_TEXT_OR_NULL,
                    pool=_TEXT_OR_NULL, state=_TEXT, attempts=_COUNT, message=_TEXT_OR_NULL)
TASK_DETAIL = _object(**_TASK_FIELDS, items=array_of(TASK_ITEM),
                      counts={"type": "object", "additionalProperties": _COUNT},
                      total=_COUNT, finished=_COUNT,
                      progress={"type": "integer", "minimum": 0, "maximum": 100})

TASK_SUMMARY = _object(id=_TEXT, kind=_TEXT, hostname=_TEXT, state=_TEXT,
                       strategy=_TEXT_OR_NULL, reason=_TEXT_OR_NULL)

# A capacity in GiB, Cinder's word for none (infinite, unknown), or null (not reported).
_CAPACITY = {"anyOf": [{"type": ["number", "null"]},
                       {"type": "string", "enum": ["infinite", "unknown"]}]}
STORAGE_POOL = _object(
    name=_TEXT, backend=_TEXT, volume_backend_name=_TEXT_OR_NULL, total_capacity_gb=_CAPACITY,
    free_capacity_gb=_CAPACITY, allocated_capacity_gb=_CAPACITY, enabled={"type": "boolean"},
    state={"enum": ["up", "down", "gone"]}, state_reason=_TEXT, state_since=_TIME,
    hosts=array_of(_TEXT), reported_at=_TIME)
STORAGE_SYNC = {"type": ["object", "null"], "properties": {
    "finished_at": _TIME, "ok": {"type": "boolean"}, "pools": _COUNT, "message": _TEXT}}
STORAGE_POOL_DETAIL = {**STORAGE_POOL, "properties": {
    **STORAGE_POOL["properties"], "last_sync": STORAGE_SYNC, "last_good_sync": STORAGE_SYNC},
    "required": [*STORAGE_POOL["required"], "last_sync", "last_good_sync"]}

AGENT_INSTANCES = _object(
    host=_TEXT, read_at={"type": "number"},
    instances={"type": "object", "additionalProperties": {"enum": ["running", "stopped"]}})
AGENT_COMMAND = _object(host=_TEXT, command=array_of(_TEXT), returncode={"type": "integer"},
                        output=_TEXT, seconds={"type": "number", "minimum": 0})
