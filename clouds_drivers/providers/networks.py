"""The per-cloud network interface the Neutron drivers share, over plain data.

``clouds_drivers.neutron`` maps every row of the spec's correspondence table through these
two interfaces, so AWS and Yandex.Cloud differ only in their implementation (nothing here
imports Neutron). The words are AWS's, the table's own: a *VPC* is the cloud network a
Neutron network becomes, an *internet gateway* what a router becomes. Deleting what is
already gone is never an error, so a retried or compensating delete is safe.
"""

from __future__ import annotations

import abc

DEFAULT_ROUTE = "0.0.0.0/0"


class CloudNetworks(abc.ABC):
    """Networks, subnets and egress gateways of one account; every failure a CloudError."""

    @abc.abstractmethod
    def zones(self) -> list[str]:
        """The zones of the account's region, sorted."""

    @abc.abstractmethod
    def create_vpc(self, cidr: str, tags: dict[str, str]) -> str: ...

    @abc.abstractmethod
    def delete_vpc(self, vpc_id: str) -> None: ...

    @abc.abstractmethod
    def create_subnet(self, vpc_id: str, cidr: str, zone: str, tags: dict[str, str]) -> str:
        """A subnet routed like the VPC's others (through its gateway once it has one)."""

    @abc.abstractmethod
    def delete_subnet(self, subnet_id: str) -> None: ...

    @abc.abstractmethod
    def subnets_of(self, vpc_id: str) -> list[str]: ...

    @abc.abstractmethod
    def create_internet_gateway(self, tags: dict[str, str]) -> str: ...

    @abc.abstractmethod
    def delete_internet_gateway(self, igw_id: str) -> None: ...

    @abc.abstractmethod
    def attached_vpcs(self, igw_id: str) -> list[str]:
        """The VPCs whose default route goes through the gateway (AWS: at most one)."""

    @abc.abstractmethod
    def attach_internet_gateway(self, igw_id: str, vpc_id: str) -> None:
        """Route the VPC's 0.0.0.0/0 through the gateway; on failure nothing is left."""

    @abc.abstractmethod
    def detach_internet_gateway(self, igw_id: str, vpc_id: str) -> None: ...


class CloudAddresses(abc.ABC):
    """Public addresses of one account, for floating IPs; every failure a CloudError."""

    @abc.abstractmethod
    def associate(self, address: str, instance_id: str, private_ip: str | None,
                  tags: dict[str, str]) -> str:
        """Put public ``address`` on the instance's interface with ``private_ip``; the id
        under which the floating IP is recorded."""

    @abc.abstractmethod
    def release(self, allocation_id: str, instance_id: str | None = None) -> None:
        """Take the address off ``instance_id`` and give back what ``associate`` took."""
