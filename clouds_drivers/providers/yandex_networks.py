"""Yandex VPC of one folder for the Neutron drivers (``CloudNetworks`` and ``CloudAddresses``
over the ``yandexcloud`` SDK, with the project's short-lived IAM token).

How the correspondence table lands on Yandex's model: a VPC is a Yandex network (it has no
CIDR of its own); an internet gateway is a shared egress (NAT) gateway, which Yandex does not
attach to a network: "attached" means a route table of the network, named like the gateway,
sends 0.0.0.0/0 through it and every subnet of the network uses that table. A floating IP is
the folder's reserved static public address with that value, put on the instance's interface
as its one-to-one NAT; Yandex never hands out an address chosen by the caller, so the address
must be reserved beforehand (the spec's external network holds the pool the account has) and
stays reserved when the floating IP goes.
"""

from __future__ import annotations

from typing import Any

from google.protobuf.field_mask_pb2 import FieldMask
from yandex.cloud.compute.v1 import instance_pb2, instance_service_pb2
from yandex.cloud.compute.v1.instance_service_pb2_grpc import InstanceServiceStub
from yandex.cloud.compute.v1.zone_service_pb2 import ListZonesRequest
from yandex.cloud.compute.v1.zone_service_pb2_grpc import ZoneServiceStub
from yandex.cloud.vpc.v1 import (
    address_service_pb2,
    gateway_pb2,
    gateway_service_pb2,
    network_pb2,
    network_service_pb2,
    route_table_pb2,
    route_table_service_pb2,
    subnet_pb2,
    subnet_service_pb2,
)
from yandex.cloud.vpc.v1.address_service_pb2_grpc import AddressServiceStub
from yandex.cloud.vpc.v1.gateway_service_pb2_grpc import GatewayServiceStub
from yandex.cloud.vpc.v1.network_service_pb2_grpc import NetworkServiceStub
from yandex.cloud.vpc.v1.route_table_service_pb2_grpc import RouteTableServiceStub
from yandex.cloud.vpc.v1.subnet_service_pb2_grpc import SubnetServiceStub

from clouds_drivers.providers.base import Account, CloudError
from clouds_drivers.providers.networks import DEFAULT_ROUTE, CloudAddresses, CloudNetworks
from clouds_drivers.providers.yandex import FolderApi, YandexProvider
from clouds_drivers.providers.yandex_instances import labels_of

#: The label every route table made for a router carries (the router's kind).
ROUTER_LABEL = ("openstack-kind", "router")


def resource_name(tags: dict[str, str]) -> str:
    """A Yandex name from the drivers' ``Name`` tag (lower case, at most 63 characters)."""
    return tags.get("Name", "").lower()[:63].rstrip("-")


class YandexNetworks(FolderApi, CloudNetworks):
    def __init__(self, provider: YandexProvider, account: Account) -> None:
        super().__init__(provider, account)
        self.networks = self.sdk.client(NetworkServiceStub)
        self.subnets = self.sdk.client(SubnetServiceStub)
        self.gateways = self.sdk.client(GatewayServiceStub)
        self.tables = self.sdk.client(RouteTableServiceStub)

    def _gone_ok(self, doing: str, method: Any, request: Any) -> None:
        try:
            self._operation(doing, method, request)
        except CloudError as exc:
            if not exc.not_found:
                raise

    def zones(self) -> list[str]:
        answer = self._call("listing the zones", self.sdk.client(ZoneServiceStub).List,
                            ListZonesRequest(page_size=1000))
        return sorted(zone.id for zone in answer.zones)

    def create_vpc(self, cidr: str, tags: dict[str, str]) -> str:
        made = self._operation(
            f"creating a network for {cidr}", self.networks.Create,
            network_service_pb2.CreateNetworkRequest(
                folder_id=self.folder_id, name=resource_name(tags), labels=labels_of(tags),
                description=f"OpenStack network, subnets within {cidr}"),
            network_pb2.Network)
        return made.id

    def delete_vpc(self, vpc_id: str) -> None:
        self._gone_ok(f"deleting network {vpc_id}", self.networks.Delete,
                      network_service_pb2.DeleteNetworkRequest(network_id=vpc_id))

    def create_subnet(self, vpc_id: str, cidr: str, zone: str, tags: dict[str, str]) -> str:
        table = self._router_table(vpc_id)
        made = self._operation(
            f"creating subnet {cidr} in {vpc_id} ({zone})", self.subnets.Create,
            subnet_service_pb2.CreateSubnetRequest(
                folder_id=self.folder_id, name=resource_name(tags), labels=labels_of(tags),
                network_id=vpc_id, zone_id=zone, v4_cidr_blocks=[cidr],
                route_table_id=table.id if table else ""),
            subnet_pb2.Subnet)
        return made.id

    def delete_subnet(self, subnet_id: str) -> None:
        self._gone_ok(f"deleting subnet {subnet_id}", self.subnets.Delete,
                      subnet_service_pb2.DeleteSubnetRequest(subnet_id=subnet_id))

    def subnets_of(self, vpc_id: str) -> list[str]:
        return sorted(s.id for s in self._subnets(vpc_id))

    def _subnets(self, vpc_id: str) -> list[Any]:
        found, token = [], ""
        while True:
            page = self._call(f"listing the subnets of {vpc_id}", self.networks.ListSubnets,
                              network_service_pb2.ListNetworkSubnetsRequest(
                                  network_id=vpc_id, page_size=1000, page_token=token))
            found.extend(page.subnets)
            token = page.next_page_token
            if not token:
                return found

    def create_internet_gateway(self, tags: dict[str, str]) -> str:
        made = self._operation(
            "creating a NAT gateway", self.gateways.Create,
            gateway_service_pb2.CreateGatewayRequest(
                folder_id=self.folder_id, name=resource_name(tags), labels=labels_of(tags),
                shared_egress_gateway_spec=gateway_service_pb2.SharedEgressGatewaySpec()),
            gateway_pb2.Gateway)
        return made.id

    def delete_internet_gateway(self, igw_id: str) -> None:
        self._gone_ok(f"deleting NAT gateway {igw_id}", self.gateways.Delete,
                      gateway_service_pb2.DeleteGatewayRequest(gateway_id=igw_id))

    def _route_tables(self) -> list[Any]:
        found, token = [], ""
        while True:
            page = self._call(f"listing the route tables of folder {self.folder_id}",
                              self.tables.List, route_table_service_pb2.ListRouteTablesRequest(
                                  folder_id=self.folder_id, page_size=1000, page_token=token))
            found.extend(page.route_tables)
            token = page.next_page_token
            if not token:
                return found

    def _router_table(self, vpc_id: str) -> Any | None:
        """The route table a router made in the network, if any."""
        key, value = ROUTER_LABEL
        return next((t for t in self._route_tables()
                     if t.network_id == vpc_id and t.labels.get(key) == value), None)

    def _tables_through(self, igw_id: str) -> list[Any]:
        return [t for t in self._route_tables()
                if any(r.gateway_id == igw_id for r in t.static_routes)]

    def attached_vpcs(self, igw_id: str) -> list[str]:
        return sorted({t.network_id for t in self._tables_through(igw_id)})

    def _use_table(self, subnet_id: str, table_id: str) -> None:
        self._operation(f"setting the route table of subnet {subnet_id}", self.subnets.Update,
                        subnet_service_pb2.UpdateSubnetRequest(
                            subnet_id=subnet_id, route_table_id=table_id,
                            update_mask=FieldMask(paths=["route_table_id"])))

    def attach_internet_gateway(self, igw_id: str, vpc_id: str) -> None:
        """A route table of 0.0.0.0/0 through the gateway, used by every subnet of the net."""
        gateway = self._call(f"looking up NAT gateway {igw_id}", self.gateways.Get,
                             gateway_service_pb2.GetGatewayRequest(gateway_id=igw_id))
        table = self._operation(
            f"creating the route table of {vpc_id} through {igw_id}", self.tables.Create,
            route_table_service_pb2.CreateRouteTableRequest(
                folder_id=self.folder_id, name=_table_name(gateway.name, vpc_id),
                labels=dict(gateway.labels),
                network_id=vpc_id, static_routes=[route_table_pb2.StaticRoute(
                    destination_prefix=DEFAULT_ROUTE, gateway_id=igw_id)]),
            route_table_pb2.RouteTable)
        try:
            for subnet in self._subnets(vpc_id):
                self._use_table(subnet.id, table.id)
        except CloudError:
            self._drop_table(table.id, vpc_id)
            raise

    def _drop_table(self, table_id: str, vpc_id: str) -> None:
        for subnet in self._subnets(vpc_id):
            if subnet.route_table_id == table_id:
                self._use_table(subnet.id, "")
        self._gone_ok(f"deleting route table {table_id}", self.tables.Delete,
                      route_table_service_pb2.DeleteRouteTableRequest(route_table_id=table_id))

    def detach_internet_gateway(self, igw_id: str, vpc_id: str) -> None:
        for table in self._tables_through(igw_id):
            if table.network_id == vpc_id:
                self._drop_table(table.id, vpc_id)


def _table_name(gateway_name: str, network_id: str) -> str:
    """Unique in the folder (Yandex refuses a second table of one name) and at most 63
    characters: a gateway routes several networks, one table in each."""
    return f"{gateway_name[:42].rstrip('-')}-{network_id}"


class YandexAddresses(FolderApi, CloudAddresses):
    def __init__(self, provider: YandexProvider, account: Account) -> None:
        super().__init__(provider, account)
        self.addresses = self.sdk.client(AddressServiceStub)
        self.instances = self.sdk.client(InstanceServiceStub)

    def _interface(self, instance: Any, private_ip: str | None) -> Any:
        for nic in instance.network_interfaces:
            if private_ip is None or nic.primary_v4_address.address == private_ip:
                return nic
        raise CloudError(f"instance {instance.id} has no interface with address {private_ip}",
                         code="FAILED_PRECONDITION")

    def _instance(self, instance_id: str) -> Any:
        return self._call(f"looking up {instance_id}", self.instances.Get,
                          instance_service_pb2.GetInstanceRequest(instance_id=instance_id))

    def associate(self, address: str, instance_id: str, private_ip: str | None,
                  tags: dict[str, str]) -> str:
        """The reserved address ``address`` as the one-to-one NAT of the instance's interface
        (the address is the operator's: its labels are left as they are)."""
        try:
            reserved = self._call(f"looking up the reserved address {address}",
                                  self.addresses.GetByValue,
                                  address_service_pb2.GetAddressByValueRequest(
                                      external_ipv4_address=address))
        except CloudError as exc:
            if not exc.not_found:
                raise
            reserved = None
        if reserved is None or reserved.folder_id != self.folder_id:
            raise CloudError(f"{address} is not a static public address reserved in folder "
                             f"{self.folder_id}: the external network's pool must be the "
                             "folder's reserved addresses", code="FAILED_PRECONDITION")
        nic = self._interface(self._instance(instance_id), private_ip)
        self._operation(
            f"putting {address} on {instance_id} as its one-to-one NAT",
            self.instances.AddOneToOneNat, instance_service_pb2.AddInstanceOneToOneNatRequest(
                instance_id=instance_id, network_interface_index=nic.index,
                internal_address=nic.primary_v4_address.address,
                one_to_one_nat_spec=instance_service_pb2.OneToOneNatSpec(
                    ip_version=instance_pb2.IPV4, address=address)),
            instance_pb2.Instance)
        return reserved.id

    def release(self, allocation_id: str, instance_id: str | None = None) -> None:
        """Take the address's one-to-one NAT off the instance; the address stays reserved."""
        try:
            reserved = self._call(f"looking up address {allocation_id}", self.addresses.Get,
                                  address_service_pb2.GetAddressRequest(
                                      address_id=allocation_id))
            instance = self._instance(instance_id) if instance_id else None
        except CloudError as exc:
            if exc.not_found:
                return
            raise
        public = reserved.external_ipv4_address.address
        for nic in instance.network_interfaces if instance is not None else ():
            if nic.primary_v4_address.one_to_one_nat.address == public:
                self._operation(
                    f"taking {public} off {instance_id}", self.instances.RemoveOneToOneNat,
                    instance_service_pb2.RemoveInstanceOneToOneNatRequest(
                        instance_id=instance_id, network_interface_index=nic.index,
                        internal_address=nic.primary_v4_address.address),
                    instance_pb2.Instance)
