"""What the cloud compute drivers ask of the cloud, decided over plain data (no Nova, no I/O).

Inputs are the pieces of Nova's objects the drivers read: the image properties Nova copies
into the instance's system metadata (``image_<property>``), the flavor's extra specs, the
instance's ports; ``clouds images register`` and ``clouds flavors register`` put the names
read here.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from clouds_drivers.tags import (
    FLAVOR_CLOUD_SPEC,
    FLAVOR_TYPE_SPEC,
    IMAGE_CLOUD_PROPERTY,
    IMAGE_ID_PROPERTY,
    named_tags,
)

#: Nova keeps the boot image's properties in system metadata under this prefix.
IMAGE_META_PREFIX = "image_"
TAG_HOST = "openstack:host"


class Refused(ValueError):
    """The server cannot be built in this cloud; the message tells the user why."""


@dataclass(frozen=True)
class Port:
    """A server's port as the cloud needs it: Neutron's ids and the fixed IPv4 address."""

    port_id: str
    network_id: str
    address: str | None
    cidr: str | None = None


def cloud_image(system_metadata: Mapping[str, str], cloud: str, image_id: str) -> str:
    """The cloud image a Glance image stands for; refused when it stands for none here."""
    props = {k[len(IMAGE_META_PREFIX):]: v for k, v in system_metadata.items()
             if k.startswith(IMAGE_META_PREFIX)}
    return _registered(props, IMAGE_ID_PROPERTY, IMAGE_CLOUD_PROPERTY, cloud,
                       f"image {image_id}", "image", "images register", "property")


def instance_type(extra_specs: Mapping[str, str], cloud: str, flavor: str) -> str:
    """The cloud machine type of a flavor made by ``clouds flavors register``."""
    return _registered(extra_specs, FLAVOR_TYPE_SPEC, FLAVOR_CLOUD_SPEC, cloud,
                       f"flavor {flavor}", "flavor", "flavors register", "extra spec")


def _registered(values: Mapping[str, str], key: str, cloud_key: str, cloud: str, what: str,
                kind: str, command: str, holder: str) -> str:
    """What a ``clouds … register`` command wrote under ``key``, for this cloud only."""
    target = values.get(key)
    if not target:
        raise Refused(f"{what} is not a {cloud} {kind}: use one from 'openstack aos clouds "
                      f"{command}' ({holder} {key} is missing)")
    owner = values.get(cloud_key)
    if owner and owner != cloud:
        raise Refused(f"{what} is a {owner} {kind}, this host runs {cloud}")
    return target


def first_port(network_info: Iterable[Mapping[str, Any]]) -> Port | None:
    """The server's first port and its first IPv4 address (the cloud's primary interface)."""
    for vif in network_info or ():
        found = next(((ip["address"], subnet.get("cidr"))
                      for subnet in vif["network"]["subnets"]
                      for ip in subnet["ips"] if ip.get("version", 4) == 4), (None, None))
        return Port(vif["id"], vif["network"]["id"], *found)
    return None


#: Cloud error codes saying a subnet id is no more (AWS, Yandex).
STALE_SUBNET_CODES = ("InvalidSubnetID.NotFound", "InvalidSubnetID.Malformed", "NOT_FOUND")


def is_stale_subnet(code: str | None) -> bool:
    """A launch refused because the cached cloud subnet is gone: ask for it again."""
    return code in STALE_SUBNET_CODES


def port_subnet(fixed_ips: Iterable[Mapping[str, str]], address: str | None
                ) -> tuple[str, str] | None:
    """(Neutron subnet id, address) of the port's address among Neutron's fixed IPs."""
    for fixed in fixed_ips:
        if address is None or fixed["ip_address"] == address:
            return fixed["subnet_id"], fixed["ip_address"]
    return None


def user_data(encoded: str | None) -> bytes | None:
    """Nova stores user data base64-encoded; clouds take it raw (and encode it themselves)."""
    if not encoded:
        return None
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return encoded.encode()


def tags(instance_id: str, project_id: str, host: str) -> dict[str, str]:
    """The Neutron drivers' tags naming the OpenStack server, plus its nova-compute host."""
    return {**named_tags("instance", instance_id, project_id), TAG_HOST: host}


_DEVICE = re.compile(r"^/dev/(?:sd|xvd|vd|hd)([a-z])(\d*)$")


def aws_device(mountpoint: str) -> str:
    """EC2's device name for a Nova mountpoint: /dev/vdf → /dev/sdf (same letter)."""
    match = _DEVICE.match(mountpoint or "")
    if not match or match.group(2):
        raise Refused(f"mountpoint {mountpoint!r} is not a whole disk like /dev/sdf")
    return f"/dev/sd{match.group(1)}"


def yandex_device(mountpoint: str) -> str:
    """Yandex's device name (letters and digits, no path) for a Nova mountpoint: vdb."""
    match = _DEVICE.match(mountpoint or "")
    if not match or match.group(2):
        raise Refused(f"mountpoint {mountpoint!r} is not a whole disk like /dev/vdb")
    return mountpoint.rsplit("/", 1)[-1]


def volume_id(connection_info: Mapping[str, Any], volume_type: str, key: str) -> str:
    """The cloud volume of a Cinder connection: ``{"driver_volume_type": …, "data": {key: …}}``."""
    kind = connection_info.get("driver_volume_type")
    if kind != volume_type:
        raise Refused(f"volume connection of type {kind!r} cannot be attached here "
                      f"(this host attaches {volume_type!r} volumes)")
    found = (connection_info.get("data") or {}).get(key)
    if not found:
        raise Refused(f"volume connection has no data.{key}")
    return found


def snapshot_name(instance_id: str, image_id: str) -> str:
    return f"openstack-snapshot-{image_id}-of-{instance_id}"
