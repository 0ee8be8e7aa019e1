"""What one of Nova's versioned notifications says about an instance or a compute service.

Nova's payloads (``nova/notifications/objects``): ``InstancePayload`` and its subclasses
carry ``uuid``, ``host``, ``node``, ``state`` (vm_state), ``task_state``, ``metadata``,
``availability_zone`` and ``flavor`` (``FlavorPayload``: ``memory_mb``, ``vcpus``,
``root_gb``, ``extra_specs``); ``ServiceStatusPayload`` carries ``host``, ``binary``,
``disabled``, ``disabled_reason`` and ``forced_down``. Every ``instance.*`` notification
states where the instance is at that moment, so each one is taken as the instance's state
then (but a live migration's source, see ``STALE_EVENTS``); the newest word per instance wins
(``newest``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from cloud_manager.model.inventory import InstanceRecord, ServiceRecord

# Sent by a live migration's source after the destination took the instance over, from the
# source's copy (still on the source, task_state migrating) and later than the destination's
# ``live_migration_post_dest`` (nova.compute.manager._post_live_migration): they say nothing
# of where the instance is.
STALE_EVENTS = frozenset({"instance.live_migration_post.start",
                          "instance.live_migration_post.end"})
# Notifications whose payload says the instance is gone.
DELETED_EVENTS = frozenset({"instance.delete.end", "instance.soft_delete.end"})
# States an instance leaves the hypervisor in (vm_state).
GONE_STATES = frozenset({"deleted", "soft-delete", "shelved_offloaded"})
COMPUTE_BINARY = "nova-compute"
Record = TypeVar("Record", InstanceRecord, ServiceRecord)


@dataclass(frozen=True)
class Notification:
    """One message as oslo.messaging hands it over (``metadata['timestamp']`` is Nova's)."""

    event_type: str
    payload: Mapping[str, Any]
    timestamp: datetime


def parse_timestamp(value: str | None, default: datetime) -> datetime:
    """oslo.messaging writes ``str(datetime)`` (naive UTC), e.g. ``2026-12-01 12:00:00.123``."""
    if not value:
        return default
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return default
    return parsed.replace(tzinfo=None) if parsed.tzinfo is None else (
        parsed.astimezone(tz=None).replace(tzinfo=None))


def _data(payload: Mapping[str, Any]) -> Mapping[str, Any]:
    return payload.get("nova_object.data") or {}


def instance_of(note: Notification) -> InstanceRecord | None:
    """The instance as the notification describes it; None when it is not about one."""
    if not note.event_type.startswith("instance.") or note.event_type in STALE_EVENTS:
        return None
    data = _data(note.payload)
    if not data.get("uuid"):
        return None
    flavor = _data(data.get("flavor") or {})
    state = data.get("state") or ""
    deleted = note.event_type in DELETED_EVENTS or state in GONE_STATES
    return InstanceRecord(
        id=data["uuid"], name=data.get("display_name") or "",
        host=None if deleted else data.get("host"), node=None if deleted else data.get("node"),
        state="deleted" if deleted else state, task_state=data.get("task_state"),
        ram_mb=int(flavor.get("memory_mb") or 0), vcpus=int(flavor.get("vcpus") or 0),
        disk_gb=int(flavor.get("root_gb") or 0), az=data.get("availability_zone"),
        metadata=dict(data.get("metadata") or {}),
        flavor_extra_specs=dict(flavor.get("extra_specs") or {}),
        changed_at=note.timestamp, deleted=deleted)


def service_of(note: Notification) -> ServiceRecord | None:
    """A nova-compute service's new state; None for other services and notifications."""
    if note.event_type != "service.update":
        return None
    data = _data(note.payload)
    if data.get("binary") != COMPUTE_BINARY or not data.get("host"):
        return None
    return ServiceRecord(host=data["host"], enabled=not data.get("disabled"),
                         forced_down=bool(data.get("forced_down")),
                         disabled_reason=data.get("disabled_reason"),
                         changed_at=note.timestamp)


def newest(records: Iterable[Record], key: Callable[[Record], str] = lambda r: r.id
           ) -> dict[str, Record]:
    """The newest record of each instance (or of each ``key``): a batch may hold several."""
    out: dict[str, Record] = {}
    for record in records:
        known = out.get(key(record))
        if known is None or record.changed_at >= known.changed_at:
            out[key(record)] = record
    return out


def event_message(note: Notification, instance: InstanceRecord | None,
                  service: ServiceRecord | None) -> tuple[str, str] | None:
    """(host, message) of the node event a notification is worth; None for most of them."""
    if service is not None:
        status = "enabled" if service.enabled else "disabled"
        forced = ", forced down" if service.forced_down else ""
        reason = f" ({service.disabled_reason})" if service.disabled_reason else ""
        return service.host, f"nova: nova-compute {status}{forced}{reason}"
    if instance is not None and note.event_type.startswith("instance.evacuate") and (
            instance.host):
        return instance.host, f"nova: instance {instance.id} evacuated (now on {instance.host})"
    return None
