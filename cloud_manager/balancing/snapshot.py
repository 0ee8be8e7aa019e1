"""A balancing model as JSON: ``balancing export`` writes it, ``plan --inventory`` reads it.

Reading checks every field and names the first wrong one, so a malformed snapshot is one
clear error, never a half-read model.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jsonschema

from cloud_manager.balancing.hosts import find_aggregate
from cloud_manager.model.cloud import Aggregate, CloudModel, Instance, ServerGroup, TargetHost

FORMAT = "aos-balancing-snapshot/1"


class SnapshotError(ValueError):
    """The snapshot is not one this version reads."""


def _record(fields: dict[str, Any], required: tuple[str, ...]) -> dict[str, Any]:
    return {"type": "object", "properties": fields, "required": list(required),
            "additionalProperties": False}


_TEXT, _INT = {"type": "string"}, {"type": "integer"}
_OPT_TEXT = {"type": ["string", "null"]}
_SCHEMA = _record({
    "format": {"const": FORMAT},
    "aggregate": _TEXT,
    "aggregates": {"type": "array", "items": _record(
        {"name": _TEXT, "hosts": {"type": "array", "items": _TEXT},
         "metadata": {"type": "object", "additionalProperties": _TEXT}},
        ("name", "hosts"))},
    "hosts": {"type": "array", "items": _record(
        {"name": _TEXT, "free_ram_mb": _INT, "free_vcpus": _INT, "free_disk_gb": _INT,
         "reserve": {"type": "boolean"}, "enabled": {"type": "boolean"},
         "up": {"type": "boolean"}, "az": _OPT_TEXT, "ram_mb": {"type": "integer", "minimum": 0},
         "used_ram_mb": {"type": "integer", "minimum": 0}, "excluded": _TEXT},
        ("name", "free_ram_mb", "free_vcpus", "free_disk_gb", "ram_mb", "used_ram_mb"))},
    "instances": {"type": "array", "items": _record(
        {"id": _TEXT, "name": _TEXT, "host": _TEXT, "priority": _INT,
         "ram_mb": {"type": "integer", "minimum": 0}, "vcpus": {"type": "integer", "minimum": 0},
         "disk_gb": {"type": "integer", "minimum": 0}, "az": _OPT_TEXT, "not_movable": _TEXT},
        ("id", "host", "ram_mb", "vcpus", "disk_gb"))},
    "server_groups": {"type": "array", "items": _record(
        {"id": _TEXT, "name": _TEXT, "policy": _TEXT,
         "members": {"type": "array", "items": _TEXT}}, ("id", "policy"))},
}, ("format", "aggregates", "hosts", "instances"))


def to_snapshot(model: CloudModel, aggregate: str) -> dict[str, Any]:
    """The aggregate's part of the model (raises ``UnknownAggregate``)."""
    members = set(find_aggregate(model, aggregate).hosts)
    instances = [dataclasses.asdict(i) for i in model.instances if i.host in members]
    ids = {i["id"] for i in instances}
    return {
        "format": FORMAT,
        "aggregate": aggregate,
        "aggregates": [{"name": a.name, "hosts": list(a.hosts), "metadata": dict(a.metadata)}
                       for a in model.aggregates if a.name == aggregate],
        "hosts": [dataclasses.asdict(h) for h in model.hosts if h.name in members],
        "instances": instances,
        "server_groups": [{**dataclasses.asdict(g), "members": list(g.members)}
                          for g in model.server_groups if ids & set(g.members)],
    }


def from_snapshot(data: Any) -> CloudModel:
    try:
        jsonschema.validate(data, _SCHEMA)
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "top level"
        raise SnapshotError(f"malformed snapshot at {where}: {exc.message}") from None
    hosts = tuple(TargetHost(**h) for h in data["hosts"])
    if len({h.name for h in hosts}) != len(hosts):
        raise SnapshotError("malformed snapshot: a host is listed twice")
    instances = tuple(Instance(**{"name": i["id"], "priority": 0, **i})
                      for i in data["instances"])
    return CloudModel(
        hosts=hosts, instances=instances,
        aggregates=tuple(Aggregate(a["name"], tuple(a["hosts"]), a.get("metadata", {}))
                         for a in data["aggregates"]),
        server_groups=tuple(ServerGroup(g["id"], g.get("name", ""), g["policy"],
                                        tuple(g.get("members", ())))
                            for g in data.get("server_groups", ())))
