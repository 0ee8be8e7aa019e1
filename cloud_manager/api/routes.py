"""The CloudManager REST API: compute nodes, power devices, host tasks and events.

Views run one database transaction each through the ``runtime`` extension and return plain
dicts built by ``cloud_manager.api.views``; repository errors become 404 / 409 responses.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

import flask
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from aos.api.app import Api, APIError, RequestContext, extension, shorten
from aos.crypto import SecretKeyError
from cloud_manager import nodes
from cloud_manager.api import schemas, views
from cloud_manager.api.policies import RULES
from cloud_manager.conf import STRATEGIES
from cloud_manager.db import api as db
from cloud_manager.db.models import Node
from cloud_manager.model.task_state import TaskKind
from cloud_manager.power import DRIVERS, OPTION_SCHEMAS, PowerError
from cloud_manager.provisioning.pxe_config import MAC_PATTERN
from cloud_manager.runtime import Runtime

API = Api("CloudManager", "1", RULES)
LOG = logging.getLogger(__name__)

EVENTS_OF_NODE_SHOWN = 50
MAX_LIMIT = 1000
_BOOLEANS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def _runtime() -> Runtime:
    return extension("runtime")


@contextlib.contextmanager
def _errors() -> Iterator[None]:
    """Repository and node-service NotFound / Conflict become 404 / 409."""
    try:
        yield
    except db.NotFound as exc:
        raise APIError(404, str(exc)) from None
    except db.Conflict as exc:
        raise APIError(409, str(exc)) from None
    except sa_exc.IntegrityError:
        # Two requests raced past the repository's existence check (e.g. one device name):
        # the database's unique constraint decided.
        raise APIError(409, "conflicts with a record created at the same time; "
                       "look it up and retry if still needed") from None


@contextlib.contextmanager
def _transaction() -> Iterator[Session]:
    """A session for one request."""
    with _errors(), _runtime().transaction() as session:
        yield session


def _query_flag(name: str) -> bool | None:
    value = flask.request.args.get(name)
    if value is None:  # "reserve=" is not a boolean: 400, as the document types it
        return None
    try:
        return _BOOLEANS[value.lower()]
    except KeyError:
        message = f"query parameter {name} must be true or false, not {shorten(value)!r}"
        raise APIError(400, message) from None


def _query_text(name: str) -> str | None:
    return flask.request.args.get(name) or None


def _query_limit(default: int = 100) -> int:
    value = flask.request.args.get("limit")
    if value is None:
        return default
    try:
        limit = int(value)
    except ValueError:
        message = f"query parameter limit must be a whole number, not {shorten(value)!r}"
        raise APIError(400, message) from None
    if not 1 <= limit <= MAX_LIMIT:
        raise APIError(400, f"query parameter limit must be between 1 and {MAX_LIMIT}")
    return limit


def _by(context: RequestContext) -> str:
    return f"user {context.user_id or 'unknown'}"


# --- nodes ---------------------------------------------------------------------------------

NODE_UPDATE_SCHEMA = {
    "type": "object",
    "properties": {
        "maintenance": {"type": "boolean"},
        "reserve": {"type": "boolean"},
        "reason": {"type": "string", "maxLength": 1000},
    },
    "anyOf": [{"required": ["maintenance"]}, {"required": ["reserve"]}],
    "additionalProperties": False,
}

EVACUATE_SCHEMA = {
    "type": "object",
    "properties": {
        "strategy": {"enum": list(STRATEGIES)},
        "reason": {"type": "string", "maxLength": 1000},
        "force": {"type": "boolean"},
    },
    "additionalProperties": False,
}

@API.route("/v1/nodes", rule="cloud_manager:node:list", summary="List compute nodes.",
           query={"state": "Only nodes in this state.",
                  "reserve": ("true: only reserve nodes; false: only the others.",
                              {"type": "boolean"})},
           response=schemas.array_of(schemas.NODE))
def list_nodes(context: RequestContext) -> list[dict[str, Any]]:
    state, reserve = _query_text("state"), _query_flag("reserve")
    with _transaction() as session:
        hosts, counts = db.inventory_hosts(session), db.instance_counts(session)
        held = db.instance_totals(session)
        return [views.node(row, hosts.get(row.hostname), counts.get(row.hostname, 0),
                           held.get(row.hostname))
                for row in db.nodes(session)
                if (state is None or row.state == state)
                and (reserve is None or row.reserve == reserve)]


@API.route("/v1/nodes/{hostname}", rule="cloud_manager:node:show",
           summary="Show a compute node, its last events, power device and active task.",
           response=schemas.NODE_DETAIL)
def show_node(context: RequestContext, hostname: str) -> dict[str, Any]:
    with _transaction() as session:
        return _node_detail(session, db.node(session, hostname))


def _node_detail(session: Session, row: Node) -> dict[str, Any]:
    instances = list(db.inventory_instances(session, host=row.hostname).values())
    last = db.last_sync(session)
    return views.node_detail(
        row,
        db.events(session, hostname=row.hostname, limit=EVENTS_OF_NODE_SHOWN),
        db.power_device_of(session, row.hostname),
        db.active_task(session, row.hostname),
        db.inventory_host(session, row.hostname), instances,
        nodes.recovery_priorities(instances,
                                  _runtime().conf.host_tasks.recovery_priority),
        last.finished_at if last else None,
    )


@API.route("/v1/nodes/{hostname}", "PATCH", rule="cloud_manager:node:update",
           summary="Put a node into or out of maintenance or the reserve.",
           schema=NODE_UPDATE_SCHEMA, response=schemas.NODE_DETAIL)
def update_node(context: RequestContext, body: dict[str, Any], hostname: str) -> dict[str, Any]:
    reason = body.get("reason")
    with _transaction() as session:
        row = db.node(session, hostname)
        if "maintenance" in body:
            nodes.set_maintenance(session, row, body["maintenance"], reason, _by(context))
        if "reserve" in body:
            nodes.set_reserve(session, row, body["reserve"], reason, _by(context))
        session.flush()
        return _node_detail(session, row)


@API.route("/v1/nodes/{hostname}/evacuate", "POST", rule="cloud_manager:node:evacuate",
           summary="Evacuate a compute node's instances (asynchronous: returns the task).",
           schema=EVACUATE_SCHEMA, status=202, response=schemas.TASK_SUMMARY)
def evacuate_node(context: RequestContext, body: dict[str, Any],
                  hostname: str) -> dict[str, Any]:
    return _request_task(context, body, hostname, TaskKind.MANUAL)


SHUTDOWN_SCHEMA = {
    "type": "object",
    "properties": {
        "strategy": {"enum": list(STRATEGIES)},
        "reason": {"type": "string", "maxLength": 1000},
    },
    "additionalProperties": False,
}


@API.route("/v1/nodes/{hostname}/shutdown", "POST", rule="cloud_manager:node:shutdown",
           summary="Shut a running node down through its power device and evacuate its "
           "instances once it is off (asynchronous: returns the task).",
           schema=SHUTDOWN_SCHEMA, status=202, response=schemas.TASK_SUMMARY)
def shutdown_node(context: RequestContext, body: dict[str, Any],
                  hostname: str) -> dict[str, Any]:
    return _request_task(context, body, hostname, TaskKind.SHUTDOWN)


def _request_task(context: RequestContext, body: dict[str, Any], hostname: str,
                  kind: TaskKind) -> dict[str, Any]:
    with _errors():
        return nodes.request_task(_runtime(), hostname, kind, strategy=body.get("strategy"),
                                  reason=body.get("reason"), by=_by(context),
                                  force=bool(body.get("force")))


# --- power devices -------------------------------------------------------------------------

POWER_DEVICE_SCHEMA = {
    "type": "object",
    "properties": {
        # No slash (it is a path segment), no space or control character (ASCII: the same
        # for Python and ECMA regexes, whose \s differ).
        "name": {"type": "string", "minLength": 1, "maxLength": 255,
                 "pattern": r"^[^/\x00-\x20\x7f]+$"},
        "driver": {"enum": list(DRIVERS)},
        # A host name, an IP address or (Redfish) a URL: printable ASCII without spaces.
        "address": {"type": "string", "minLength": 1, "maxLength": 255,
                    "pattern": r"^[!-~]+$"},
        "port": {"type": ["integer", "null"], "minimum": 1, "maximum": 65535},
        "username": {"type": ["string", "null"], "maxLength": 255},
        "password": {"type": ["string", "null"], "maxLength": 1024},
        "hostname": {"type": ["string", "null"], "minLength": 1, "maxLength": 255},
        "options": {"type": "object", "maxProperties": 16},
    },
    "required": ["name", "driver", "address"],
    "additionalProperties": False,
    # Each driver's options: a device that cannot work (an SSH device without its commands,
    # an option name mistyped) is refused at create, not found out while fencing.
    "oneOf": [{"properties": {"driver": {"enum": [driver]}, "options": options},
               "required": ["options"] if "required" in options else []}
              for driver, options in OPTION_SCHEMAS.items()],
}

POWER_ACTION_SCHEMA = {
    "type": "object",
    "properties": {"action": {"enum": ["on", "off", "status", "cycle"]}},
    "required": ["action"],
    "additionalProperties": False,
}


@API.route("/v1/power-devices", rule="cloud_manager:power_device:list",
           summary="List power devices (passwords are never shown).",
           response=schemas.array_of(schemas.POWER_DEVICE))
def list_power_devices(context: RequestContext) -> list[dict[str, Any]]:
    with _transaction() as session:
        return [views.power_device(row) for row in db.power_devices(session)]


@API.route("/v1/power-devices/{name}", rule="cloud_manager:power_device:show",
           summary="Show a power device (its password is never shown).",
           response=schemas.POWER_DEVICE)
def show_power_device(context: RequestContext, name: str) -> dict[str, Any]:
    with _transaction() as session:
        return views.power_device(db.power_device(session, name))


@API.route("/v1/power-devices", "POST", rule="cloud_manager:power_device:create",
           summary="Create a power device; its password is stored encrypted.",
           schema=POWER_DEVICE_SCHEMA, status=201, response=schemas.POWER_DEVICE)
def create_power_device(context: RequestContext, body: dict[str, Any]) -> dict[str, Any]:
    try:
        with _transaction() as session:
            return views.power_device(nodes.add_power_device(
                session, _runtime().secrets, _by(context), name=body["name"],
                driver=body["driver"], address=body["address"], port=body.get("port"),
                username=body.get("username"), password=body.get("password"),
                hostname=body.get("hostname"), options=body.get("options")))
    except SecretKeyError as exc:
        raise APIError(500, str(exc)) from None


@API.route("/v1/power-devices/{name}", "DELETE", rule="cloud_manager:power_device:delete",
           summary="Delete a power device.")
def delete_power_device(context: RequestContext, name: str) -> None:
    with _transaction() as session:
        nodes.delete_power_device(session, name, _by(context))


@API.route("/v1/power-devices/{name}/action", "POST", rule="cloud_manager:power_device:action",
           summary="Power the device's node on, off or cycle it, or read its power state.",
           schema=POWER_ACTION_SCHEMA, response=schemas.POWER_ACTION_RESULT,
           errors={502: "the power device did not answer or refused the action"})
def power_action(context: RequestContext, body: dict[str, Any], name: str) -> dict[str, Any]:
    action = body["action"]
    try:
        with _errors():
            power_state = nodes.power(_runtime(), name, action, _by(context))
    except PowerError as exc:
        LOG.warning("power %s of device %s failed: %s", action, name, exc)
        raise APIError(502, str(exc)) from None
    except SecretKeyError as exc:
        raise APIError(500, str(exc)) from None
    return {"name": name, "action": action, "power_state": power_state}


# --- adding bare nodes ----------------------------------------------------------------------

NODE_ADD_SCHEMA = {
    "type": "object",
    "properties": {
        # As Nova will name it: a path segment, so no slash, space or control character.
        "hostname": {"type": "string", "minLength": 1, "maxLength": 255,
                     "pattern": r"^[^/\x00-\x20\x7f]+$"},
        "mac": {"type": "string", "pattern": MAC_PATTERN},
        "power_device": {"type": "string", "minLength": 1, "maxLength": 255},
        # A device to create for the node: power-device create's body without its hostname.
        "new_power_device": {
            **POWER_DEVICE_SCHEMA,
            "properties": {k: v for k, v in POWER_DEVICE_SCHEMA["properties"].items()
                           if k != "hostname"}},
        "reserve": {"type": "boolean"},
    },
    "required": ["hostname", "mac"],
    "additionalProperties": False,
    "oneOf": [{"required": ["power_device"]}, {"required": ["new_power_device"]}],
}


@API.route("/v1/nodes", "POST", rule="cloud_manager:node:add",
           summary="Add a bare node by MAC and power device: its PXE file is written, it is "
           "powered on, found in the DHCP leases and followed until its nova-compute "
           "registers, then put in service or the reserve pool (asynchronous: returns the "
           "task; the node's active task if it is being added already).",
           schema=NODE_ADD_SCHEMA, status=202, response=schemas.TASK_SUMMARY)
def add_node(context: RequestContext, body: dict[str, Any]) -> dict[str, Any]:
    try:
        with _errors():
            summary, _ = nodes.add_node(
                _runtime(), body["hostname"], body["mac"], _by(context),
                device=body.get("power_device"), new_device=body.get("new_power_device"),
                reserve=bool(body.get("reserve")))
    except SecretKeyError as exc:
        raise APIError(500, str(exc)) from None
    return summary


# --- tasks and events ----------------------------------------------------------------------

@API.route("/v1/tasks", rule="cloud_manager:task:list", summary="List host tasks, newest first.",
           query={"hostname": "Only tasks of this node.", "state": "Only tasks in this state."},
           response=schemas.array_of(schemas.TASK))
def list_tasks(context: RequestContext) -> list[dict[str, Any]]:
    with _transaction() as session:
        rows = db.tasks(session, hostname=_query_text("hostname"), state=_query_text("state"))
        return [views.task(row) for row in rows]


@API.route("/v1/tasks/{task_id}", rule="cloud_manager:task:show",
           summary="Show a host task with its per-instance items and progress.",
           response=schemas.TASK_DETAIL)
def show_task(context: RequestContext, task_id: str) -> dict[str, Any]:
    with _transaction() as session:
        return views.task_detail(db.task(session, task_id))


@API.route("/v1/events", rule="cloud_manager:event:list",
           summary="List node events and alerts, newest first.",
           query={"hostname": "Only events of this node.",
                  "kind": "Only events of this kind (transition, action, alert, ...).",
                  "limit": (f"At most this many events (1-{MAX_LIMIT}, default 100).",
                            {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT})},
           response=schemas.array_of(schemas.EVENT))
def list_events(context: RequestContext) -> list[dict[str, Any]]:
    limit = _query_limit()
    with _transaction() as session:
        rows = db.events(session, hostname=_query_text("hostname"), kind=_query_text("kind"),
                         limit=limit)
        return [views.event(row) for row in rows]
