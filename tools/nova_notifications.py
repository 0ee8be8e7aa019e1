"""Nova's versioned notifications as Nova sends them, for tests and benchmarks.

The payloads follow ``nova/notifications/objects`` (nova 34): an ``InstanceActionPayload``
(1.9) with its ``FlavorPayload`` (1.4), a ``ServiceStatusPayload`` (1.1), each serialized as
an oslo versioned object primitive; ``publish`` sends them through oslo.messaging's
``messagingv2`` driver on the ``versioned_notifications`` topic, as nova.rpc does with
``[notifications] notification_format = versioned``.
"""

from __future__ import annotations

from typing import Any

TOPIC = "versioned_notifications"


def _primitive(name: str, version: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"nova_object.name": name, "nova_object.namespace": "nova",
            "nova_object.version": version, "nova_object.data": data}


def flavor_payload(ram_mb: int = 512, vcpus: int = 1, disk_gb: int = 1,
                   extra_specs: dict[str, str] | None = None) -> dict[str, Any]:
    return _primitive("FlavorPayload", "1.4", {
        "flavorid": f"f-{ram_mb}-{vcpus}-{disk_gb}", "name": f"m{ram_mb}", "memory_mb": ram_mb,
        "vcpus": vcpus, "root_gb": disk_gb, "ephemeral_gb": 0, "swap": 0, "rxtx_factor": 1.0,
        "vcpu_weight": 0, "disabled": False, "is_public": True,
        "extra_specs": extra_specs or {}, "projects": None, "description": None})


def instance_payload(uuid: str, host: str | None, state: str = "active",
                     task_state: str | None = None, name: str | None = None,
                     node: str | None = None, ram_mb: int = 512, vcpus: int = 1,
                     disk_gb: int = 1, metadata: dict[str, str] | None = None,
                     extra_specs: dict[str, str] | None = None) -> dict[str, Any]:
    return _primitive("InstanceActionPayload", "1.9", {
        "uuid": uuid, "user_id": "u", "tenant_id": "p", "reservation_id": "r-1",
        "display_name": name or uuid[:8], "display_description": None,
        "host_name": name or uuid[:8], "host": host, "node": node or host,
        "os_type": None, "architecture": None, "availability_zone": "nova",
        "flavor": flavor_payload(ram_mb, vcpus, disk_gb, extra_specs),
        "image_uuid": "image", "key_name": None, "kernel_id": "", "ramdisk_id": "",
        "created_at": "2026-12-01T12:00:00Z", "launched_at": "2026-12-01T12:00:01Z",
        "terminated_at": None, "deleted_at": None, "updated_at": None,
        "state": state, "power_state": "running" if state == "active" else "shutdown",
        "task_state": task_state, "progress": 0, "ip_addresses": [], "block_devices": [],
        "metadata": metadata or {}, "locked": False, "auto_disk_config": "MANUAL",
        "request_id": "req-1", "action_initiator_user": "u", "action_initiator_project": "p",
        "locked_reason": None, "shares": [], "fault": None})


def service_payload(host: str, disabled: bool = False, forced_down: bool = False,
                    disabled_reason: str | None = None) -> dict[str, Any]:
    return _primitive("ServiceStatusPayload", "1.1", {
        "host": host, "binary": "nova-compute", "topic": "compute", "report_count": 1,
        "disabled": disabled, "disabled_reason": disabled_reason,
        "availability_zone": None, "last_seen_up": None, "forced_down": forced_down,
        "version": 66, "uuid": "00000000-0000-0000-0000-000000000001"})


def message(event_type: str, payload: dict[str, Any], timestamp: str) -> dict[str, Any]:
    """One message as a batch listener's endpoint receives it."""
    return {"ctxt": {}, "publisher_id": "nova-compute:host", "event_type": event_type,
            "payload": payload, "metadata": {"message_id": "m", "timestamp": timestamp}}


def notifier(url: str, publisher_id: str = "nova-compute:bench") -> Any:
    """An oslo.messaging notifier sending as Nova does (messagingv2, versioned topic, on
    Nova's exchange: this process's default control_exchange becomes "nova", as in Nova)."""
    import oslo_messaging
    from oslo_config import cfg

    oslo_messaging.set_transport_defaults(control_exchange="nova")
    transport = oslo_messaging.get_notification_transport(cfg.ConfigOpts(), url=url)
    return oslo_messaging.Notifier(transport, publisher_id=publisher_id, driver="messagingv2",
                                   topics=[TOPIC])
