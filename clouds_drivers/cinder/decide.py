"""What the Cinder drivers and the scheduler filter decide, over plain data (no I/O, no Cinder).

A backend's cloud is the ``aos_cloud`` capability its driver reports with its stats; a
project's cloud is the provider of its account in the Clouds API (None: not cloud-bound).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from clouds_drivers.tags import IMAGE_CLOUD_PROPERTY, IMAGE_ID_PROPERTY

#: The capability naming a backend's cloud, reported by the cloud drivers' stats.
CLOUD_CAPABILITY = "aos_cloud"
#: Volume and snapshot metadata holding the cloud's message when an operation failed.
ERROR_METADATA = "aos_cloud_error"
DRIVER_VERSION = "1.0.0"

VENDORS = {"aws": "Amazon Web Services", "yandex": "Yandex.Cloud"}
#: ``driver_volume_type`` of the connection info and its key for the cloud's volume id:
#: what the compute drivers (EC2Driver, YandexDriver) attach.
CONNECTIONS = {"aws": ("aws_ebs", "volume_id"), "yandex": ("yandex_disk", "disk_id")}
CLOUD_NAMES = {"aws": "AWS", "yandex": "Yandex.Cloud"}


class Refused(ValueError):
    """The request cannot be done in this cloud; the message tells the user why."""


def backend_allowed(project_cloud: str | None, backend_cloud: str | None) -> bool:
    """A cloud-bound project's volumes go only to its cloud's backends; others never do."""
    return project_cloud == backend_cloud


def project_of(filter_properties: Mapping[str, Any]) -> str | None:
    """The project owning the volume being scheduled (not the caller's, for admin moves)."""
    spec = filter_properties.get("request_spec") or {}
    props = spec.get("volume_properties") or {}
    if props.get("project_id"):
        return props["project_id"]
    context = filter_properties.get("context")
    return getattr(context, "project_id", None)


def stats(backend_name: str, cloud: str) -> dict[str, Any]:
    """The backend's report to the scheduler.

    A public cloud sells capacity on demand: total and free are ``infinite`` (Cinder's word
    for "no limit known here"); the account's own quotas are the cloud's to enforce, and
    its refusal puts the volume in ``error`` with the cloud's message.
    """
    return {
        "volume_backend_name": backend_name,
        "vendor_name": VENDORS[cloud],
        "driver_version": DRIVER_VERSION,
        "storage_protocol": CONNECTIONS[cloud][0],
        "total_capacity_gb": "infinite",
        "free_capacity_gb": "infinite",
        "reserved_percentage": 0,
        "QoS_support": False,
        "thin_provisioning_support": False,
        "thick_provisioning_support": True,
        "multiattach": False,
        CLOUD_CAPABILITY: cloud,
    }


def connection_info(cloud: str, cloud_volume_id: str) -> dict[str, Any]:
    volume_type, key = CONNECTIONS[cloud]
    return {"driver_volume_type": volume_type, "data": {key: cloud_volume_id}}


def cloud_name(kind: str, openstack_id: str) -> str:
    """The cloud object's name: valid for Yandex (lowercase, <= 63) and readable in AWS."""
    return f"{kind}-{openstack_id}".lower()


def cloud_image(image_meta: Mapping[str, Any], cloud: str) -> str | None:
    """The cloud image a Glance image stands for, None when it is not a registered cloud
    image; Refused when it was registered from another cloud."""
    props = image_meta.get("properties") or {}
    owner, image_id = props.get(IMAGE_CLOUD_PROPERTY), props.get(IMAGE_ID_PROPERTY)
    if not owner or not image_id:
        return None
    if owner != cloud:
        raise Refused(f"image {image_meta.get('id')} is a {CLOUD_NAMES.get(owner, owner)} "
                      f"image; this backend's volumes live in {CLOUD_NAMES[cloud]}")
    return str(image_id)


def not_bound(project_id: str, cloud: str, bound_to: str | None) -> str:
    where = f"is bound to {CLOUD_NAMES.get(bound_to, bound_to)}" if bound_to else \
        "has no cloud account"
    return (f"project {project_id} {where}: the volumes of this backend live in "
            f"{CLOUD_NAMES[cloud]} (CloudBackendsFilter keeps other projects off it)")


def one_line(message: str, limit: int = 255) -> str:
    """A message fit for a metadata value: one line, at most ``limit`` characters."""
    line = " ".join(str(message).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
