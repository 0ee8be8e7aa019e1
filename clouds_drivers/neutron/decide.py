"""What the Neutron drivers do in the cloud, decided over plain data (no I/O, no Neutron).

The spec's rules: a VPC is the /16 holding the subnet, a subnet is at most a /16, AWS keeps
the first four addresses of a subnet (.0 network, .1 router, .2 DNS, .3 reserved), no IPv6,
no provider networks, and one internet gateway serves one VPC.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any

from clouds_drivers.tags import TAG_ID, TAG_KIND, TAG_PROJECT

__all__ = ["TAG_ID", "TAG_KIND", "TAG_PROJECT"]

VPC_PREFIX = 16
#: Addresses AWS reserves at the start of every subnet.
RESERVED_AT_START = 4


class Refused(ValueError):
    """The request cannot be mirrored in the cloud; the message tells the user why."""


class Conflict(Refused):
    """The request contradicts what already exists (an HTTP 409, not a 400)."""


def vpc_cidr(subnet_cidr: str) -> str:
    """The /16 that holds ``subnet_cidr``: the CIDR of the subnet's VPC."""
    net = ipaddress.ip_network(subnet_cidr, strict=False)
    return str(net.supernet(new_prefix=VPC_PREFIX)) if net.prefixlen > VPC_PREFIX else str(net)


def check_subnet(cidr: str, ip_version: int, pools: Iterable[Mapping[str, str]]) -> str:
    """Refuse what AWS cannot hold; return the VPC CIDR for the subnet."""
    if ip_version != 4:
        raise Refused("IPv6 subnets are not supported in AWS-backed projects "
                      "(the VPC model used here is IPv4 only)")
    net = ipaddress.ip_network(cidr, strict=False)
    if net.prefixlen < VPC_PREFIX:
        raise Refused(f"subnet {cidr} is wider than /{VPC_PREFIX}: an AWS VPC holds at most "
                      f"a /{VPC_PREFIX}")
    lowest = net.network_address + RESERVED_AT_START
    for pool in pools:
        if ipaddress.ip_address(pool["start"]) < lowest:
            raise Refused(f"allocation pool {pool['start']}-{pool['end']} starts below "
                          f"{lowest}: AWS reserves the first {RESERVED_AT_START} addresses "
                          f"of a subnet; use --allocation-pool start={lowest},end=…")
    return vpc_cidr(cidr)


def check_same_vpc(network_vpc_cidr: str | None, subnet_vpc_cidr: str) -> None:
    """One Neutron network is one VPC: its subnets share the VPC's /16."""
    if network_vpc_cidr is not None and network_vpc_cidr != subnet_vpc_cidr:
        raise Refused(f"this network is the AWS VPC {network_vpc_cidr}: its subnets must lie "
                      f"in it (a subnet of {subnet_vpc_cidr} needs another network)")


def is_provider_network(segments: Iterable[Mapping[str, Any]],
                        tenant_types: Iterable[str]) -> bool:
    """A segment of a type users do not get by default means an admin asked for it."""
    allowed = set(tenant_types)
    return any(segment.get("network_type") not in allowed
               or segment.get("physical_network") for segment in segments)


def subnet_zone(requested: str | None, account_zone: str) -> str:
    """``subnet_az`` picks the subnet's zone; otherwise the project's account zone."""
    return requested or account_zone


def check_zone(zone: str, zones: list[str]) -> None:
    """A requested zone must be one of the account's region."""
    if zone not in zones:
        raise Refused(f"availability zone {zone!r} is not in the project's AWS region "
                      f"(zones: {', '.join(zones)})")


def check_gateway_vpc(attached_vpc: str | None, interface_vpc: str) -> bool:
    """Whether the gateway must be attached; refuse a second VPC (one IGW, one VPC)."""
    if attached_vpc is None:
        return True
    if attached_vpc != interface_vpc:
        raise Conflict(f"the router's internet gateway is attached to VPC {attached_vpc}: "
                       f"an AWS internet gateway serves one VPC, so an interface in "
                       f"{interface_vpc} needs another router")
    return False


#: AWS error codes that mean "this contradicts what exists" (409) or "try later" (503);
#: any other code is the caller's input (400).
_CONFLICT_MARKS = ("DependencyViolation", "InUse", "AlreadyAssociated", "Conflict",
                   "LimitExceeded", "AlreadyExists")
_UNAVAILABLE_MARKS = ("InternalError", "Unavailable", "Throttling", "RequestLimitExceeded",
                      "AuthFailure", "UnauthorizedOperation", "InvalidClientTokenId",
                      "ExpiredToken")


def status_of_cloud_error(code: str | None) -> int:
    """HTTP status a Neutron user sees for a cloud failure with AWS error ``code``."""
    if not code or any(mark in code for mark in _UNAVAILABLE_MARKS):
        return 503
    if any(mark in code for mark in _CONFLICT_MARKS):
        return 409
    return 400
