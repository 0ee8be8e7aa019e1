"""What the Neutron drivers do in the cloud, decided over plain data (no I/O, no Neutron).

The spec's rules: a subnet is at most a /16, the cloud keeps the first addresses of a subnet,
no IPv6, no provider networks, and (on AWS) one router's gateway serves one cloud network.
Where AWS and Yandex.Cloud differ (how many addresses each keeps, whether a cloud network is
itself a /16, whether one gateway can route several networks)
the difference is a ``NetworkRules`` value, so each rule is written once.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from clouds_drivers.tags import TAG_ID, TAG_KIND, TAG_PROJECT

__all__ = ["TAG_ID", "TAG_KIND", "TAG_PROJECT"]

VPC_PREFIX = 16
#: The narrowest subnet either cloud creates.
SMALLEST_PREFIX = 28


@dataclass(frozen=True)
class NetworkRules:
    """What one cloud's VPC model allows, as the drivers' refusals need it."""

    cloud: str
    #: Addresses the cloud keeps at the start of every subnet (.0 included).
    reserved_at_start: int
    #: Whether a cloud network is itself a /16 its subnets must lie in (AWS's VPC CIDR).
    network_has_cidr: bool
    #: What a router's gateway is called there.
    gateway: str
    #: Whether one gateway can route several cloud networks (a router with interfaces on
    #: several networks): an AWS internet gateway attaches to one VPC; a Yandex NAT gateway
    #: is named by a route table in each network.
    gateway_serves_many: bool = False


#: AWS keeps .0 network, .1 router, .2 DNS, .3 future use.
AWS = NetworkRules("AWS", reserved_at_start=4, network_has_cidr=True,
                   gateway="internet gateway")
#: Yandex keeps .0, .1 gateway and .2 DNS; its networks have no CIDR of their own.
YANDEX = NetworkRules("Yandex.Cloud", reserved_at_start=3, network_has_cidr=False,
                      gateway="NAT gateway", gateway_serves_many=True)
RULES = {"aws": AWS, "yandex": YANDEX}


def rules_of(provider: str) -> NetworkRules:
    return RULES[provider]


class Refused(ValueError):
    """The request cannot be mirrored in the cloud; the message tells the user why."""


class Conflict(Refused):
    """The request contradicts what already exists (an HTTP 409, not a 400)."""


def vpc_cidr(subnet_cidr: str) -> str:
    """The /16 that holds ``subnet_cidr``: the CIDR of the subnet's VPC."""
    net = ipaddress.ip_network(subnet_cidr, strict=False)
    return str(net.supernet(new_prefix=VPC_PREFIX)) if net.prefixlen > VPC_PREFIX else str(net)


def check_subnet(cidr: str, ip_version: int, pools: Iterable[Mapping[str, str]],
                 rules: NetworkRules) -> str:
    """Refuse what the cloud cannot hold; return the VPC CIDR for the subnet."""
    if ip_version != 4:
        raise Refused(f"IPv6 subnets are not supported in {rules.cloud}-backed projects "
                      "(the VPC model used here is IPv4 only)")
    net = ipaddress.ip_network(cidr, strict=False)
    if net.prefixlen < VPC_PREFIX:
        raise Refused(f"subnet {cidr} is wider than /{VPC_PREFIX}: a {rules.cloud} subnet "
                      f"is at most a /{VPC_PREFIX}")
    if net.prefixlen > SMALLEST_PREFIX:
        raise Refused(f"subnet {cidr} is narrower than /{SMALLEST_PREFIX}, the smallest "
                      f"subnet {rules.cloud} creates")
    lowest = net.network_address + rules.reserved_at_start
    for pool in pools:
        if ipaddress.ip_address(pool["start"]) < lowest:
            raise Refused(f"allocation pool {pool['start']}-{pool['end']} starts below "
                          f"{lowest}: {rules.cloud} reserves the first "
                          f"{rules.reserved_at_start} addresses of a subnet; use "
                          f"--allocation-pool start={lowest},end=…")
    return vpc_cidr(cidr)


def check_same_vpc(network_vpc_cidr: str | None, subnet_vpc_cidr: str,
                   rules: NetworkRules) -> None:
    """One Neutron network is one AWS VPC: its subnets share the VPC's /16 (a Yandex network
    has no CIDR, so any subnets of it are fine)."""
    if not rules.network_has_cidr:
        return
    if network_vpc_cidr is not None and network_vpc_cidr != subnet_vpc_cidr:
        raise Refused(f"this network is the {rules.cloud} VPC {network_vpc_cidr}: its "
                      f"subnets must lie in it (a subnet of {subnet_vpc_cidr} needs another "
                      "network)")


def is_provider_network(segments: Iterable[Mapping[str, Any]],
                        tenant_types: Iterable[str]) -> bool:
    """A segment of a type users do not get by default means an admin asked for it."""
    allowed = set(tenant_types)
    return any(segment.get("network_type") not in allowed
               or segment.get("physical_network") for segment in segments)


def subnet_zone(requested: str | None, account_zone: str) -> str:
    """``subnet_az`` picks the subnet's zone; otherwise the project's account zone."""
    return requested or account_zone


def check_zone(zone: str, zones: list[str], rules: NetworkRules) -> None:
    """A requested zone must be one of the account's region."""
    if zone not in zones:
        raise Refused(f"availability zone {zone!r} is not in the project's {rules.cloud} "
                      f"region (zones: {', '.join(zones)})")


def check_gateway_vpc(attached_vpcs: Collection[str], interface_vpc: str,
                      rules: NetworkRules) -> bool:
    """Whether the gateway must be attached to the interface's VPC; on AWS, refuse a second
    VPC (an internet gateway attaches to one VPC)."""
    if interface_vpc in attached_vpcs:
        return False
    if attached_vpcs and not rules.gateway_serves_many:
        raise Conflict(f"the router's {rules.gateway} is attached to VPC "
                       f"{sorted(attached_vpcs)[0]}: a {rules.cloud} {rules.gateway} of a "
                       f"router serves one VPC, so an interface in {interface_vpc} needs "
                       "another router")
    return True


#: AWS error codes and Yandex gRPC status names that mean "this contradicts what exists"
#: (409) or "try later" (503); any other code is the caller's input (400).
_CONFLICT_MARKS = ("DependencyViolation", "InUse", "AlreadyAssociated", "Conflict",
                   "LimitExceeded", "AlreadyExists", "FAILED_PRECONDITION", "ALREADY_EXISTS",
                   "RESOURCE_EXHAUSTED", "ABORTED")
_UNAVAILABLE_MARKS = ("InternalError", "Unavailable", "Throttling", "RequestLimitExceeded",
                      "AuthFailure", "UnauthorizedOperation", "InvalidClientTokenId",
                      "ExpiredToken", "UNAVAILABLE", "DEADLINE_EXCEEDED", "UNAUTHENTICATED",
                      "PERMISSION_DENIED", "INTERNAL", "UNKNOWN")


def status_of_cloud_error(code: str | None) -> int:
    """HTTP status a Neutron user sees for a cloud failure with error ``code`` (AWS's error
    code or Yandex's gRPC status name)."""
    if not code or any(mark in code for mark in _UNAVAILABLE_MARKS):
        return 503
    if any(mark in code for mark in _CONFLICT_MARKS):
        return 409
    return 400
