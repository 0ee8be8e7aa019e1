"""VPC part of the Yandex double: networks, subnets, addresses and IP allocation.

Instances get their primary IPv4 address from the subnet CIDR and, with one-to-one NAT, a
public address from a fake pool, so the hybrid-cloud code sees realistic, non-clashing IPs.
"""

from __future__ import annotations

import ipaddress

import grpc
from yandex.cloud.vpc.v1 import (
    address_pb2,
    address_service_pb2,
    address_service_pb2_grpc,
    network_pb2,
    network_service_pb2,
    network_service_pb2_grpc,
    subnet_pb2,
    subnet_service_pb2,
    subnet_service_pb2_grpc,
)

from .operations import finished
from .state import (
    ApiError,
    Cloud,
    check_name,
    clone,
    invalid,
    listed,
    new_id,
    now,
    page,
    precondition,
)

# Public addresses handed out for one-to-one NAT and reserved external addresses.
EXTERNAL_POOL = ipaddress.ip_network("51.250.0.0/16")


def used_internal(cloud: Cloud, subnet_id: str) -> set[str]:
    """Addresses taken in a subnet by instance interfaces and internal address resources."""
    used = {
        nic.primary_v4_address.address
        for inst in cloud.instances.values()
        for nic in inst.network_interfaces
        if nic.subnet_id == subnet_id and nic.primary_v4_address.address
    }
    used |= {
        a.internal_ipv4_address.address
        for a in cloud.addresses.values()
        if a.HasField("internal_ipv4_address") and a.internal_ipv4_address.subnet_id == subnet_id
    }
    return used


def allocate_internal(cloud: Cloud, subnet: subnet_pb2.Subnet, wanted: str = "") -> str:
    """Give out `wanted` or the first free host address (Yandex reserves .1 and .2)."""
    used = used_internal(cloud, subnet.id)
    networks = [ipaddress.ip_network(cidr) for cidr in subnet.v4_cidr_blocks]
    if wanted:
        try:
            ip = ipaddress.ip_address(wanted)
        except ValueError:
            raise invalid("address", f"{wanted!r} is not an IPv4 address") from None
        if not any(ip in net for net in networks):
            raise invalid("address", f"Address {wanted} is not in subnet {subnet.id} CIDR blocks")
        if wanted in used:
            raise ApiError(grpc.StatusCode.ALREADY_EXISTS, f"Address {wanted} is already allocated")
        return wanted
    for net in networks:
        for offset, ip in enumerate(net.hosts()):
            if offset < 2:
                continue
            if str(ip) not in used:
                return str(ip)
    raise precondition(f"Subnet {subnet.id} has no free addresses")


def used_external(cloud: Cloud) -> set[str]:
    used = {
        nic.primary_v4_address.one_to_one_nat.address
        for inst in cloud.instances.values()
        for nic in inst.network_interfaces
        if nic.primary_v4_address.one_to_one_nat.address
    }
    used |= {
        a.external_ipv4_address.address
        for a in cloud.addresses.values()
        if a.HasField("external_ipv4_address")
    }
    return used


def allocate_external(cloud: Cloud) -> str:
    used = used_external(cloud)
    while True:
        cloud.external_counter += 1
        ip = EXTERNAL_POOL[cloud.external_counter + 265]
        if ip.packed[-1] not in (0, 255) and str(ip) not in used:
            return str(ip)


def reserved_external(cloud: Cloud, folder_id: str, zone_id: str, ip: str) -> address_pb2.Address:
    """The reserved address resource a NAT spec names; must be free and in the same zone."""
    for addr in cloud.addresses.values():
        if addr.HasField("external_ipv4_address") and addr.external_ipv4_address.address == ip:
            if addr.folder_id != folder_id:
                break
            if addr.used:
                raise precondition(f"Address {ip} is already used")
            if addr.external_ipv4_address.zone_id != zone_id:
                raise precondition(
                    f"Address {ip} is in zone {addr.external_ipv4_address.zone_id}, not {zone_id}"
                )
            return addr
    raise ApiError(grpc.StatusCode.NOT_FOUND, f"Address {ip} not found")


def set_address_used(cloud: Cloud, ip: str, used: bool) -> None:
    for addr in cloud.addresses.values():
        if addr.HasField("external_ipv4_address") and addr.external_ipv4_address.address == ip:
            addr.used = used


class NetworkService(network_service_pb2_grpc.NetworkServiceServicer):
    def __init__(self, cloud: Cloud):
        self.cloud = cloud

    def Get(self, request, context):  # noqa: N802 - gRPC method names
        return clone(self.cloud.get(self.cloud.networks, "Network", request.network_id))

    def List(self, request, context):  # noqa: N802
        self.cloud.folder(request.folder_id)
        items, token = listed(
            self.cloud.networks.values(),
            request.folder_id,
            request.filter,
            request.page_size,
            request.page_token,
        )
        return network_service_pb2.ListNetworksResponse(networks=items, next_page_token=token)

    def ListSubnets(self, request, context):  # noqa: N802
        self.cloud.get(self.cloud.networks, "Network", request.network_id)
        subnets = [s for s in self.cloud.subnets.values() if s.network_id == request.network_id]
        items, token = page(subnets, request.page_size, request.page_token)
        return network_service_pb2.ListNetworkSubnetsResponse(subnets=items, next_page_token=token)

    def Create(self, request, context):  # noqa: N802
        folder_id = self.cloud.folder(request.folder_id)
        check_name("Network", request.name, self.cloud.networks, folder_id)
        net = network_pb2.Network(
            id=new_id("enp"),
            folder_id=folder_id,
            created_at=now(),
            name=request.name,
            description=request.description,
            labels=dict(request.labels),
            default_security_group_id=new_id("enp"),
        )
        self.cloud.networks[net.id] = net
        return finished(
            self.cloud,
            "Create network",
            network_service_pb2.CreateNetworkMetadata(network_id=net.id),
            net,
            "enp",
        )

    def Delete(self, request, context):  # noqa: N802
        self.cloud.get(self.cloud.networks, "Network", request.network_id)
        if any(s.network_id == request.network_id for s in self.cloud.subnets.values()):
            raise precondition(
                f"Network {request.network_id} is not empty: delete its subnets first"
            )
        if any(t.network_id == request.network_id for t in self.cloud.route_tables.values()):
            raise precondition(
                f"Network {request.network_id} is not empty: delete its route tables first"
            )
        del self.cloud.networks[request.network_id]
        meta = network_service_pb2.DeleteNetworkMetadata(network_id=request.network_id)
        return finished(self.cloud, "Delete network", meta, None, "enp")


class SubnetService(subnet_service_pb2_grpc.SubnetServiceServicer):
    def __init__(self, cloud: Cloud):
        self.cloud = cloud

    def Get(self, request, context):  # noqa: N802 - gRPC method names
        return clone(self.cloud.get(self.cloud.subnets, "Subnet", request.subnet_id))

    def List(self, request, context):  # noqa: N802
        self.cloud.folder(request.folder_id)
        items, token = listed(
            self.cloud.subnets.values(),
            request.folder_id,
            request.filter,
            request.page_size,
            request.page_token,
        )
        return subnet_service_pb2.ListSubnetsResponse(subnets=items, next_page_token=token)

    def Create(self, request, context):  # noqa: N802
        folder_id = self.cloud.folder(request.folder_id)
        check_name("Subnet", request.name, self.cloud.subnets, folder_id)
        network = self.cloud.get(self.cloud.networks, "Network", request.network_id)
        zone_id = self.cloud.zone(request.zone_id)
        if not request.v4_cidr_blocks:
            raise invalid("v4_cidr_blocks", "Field is required")
        blocks = []
        for cidr in request.v4_cidr_blocks:
            try:
                net = ipaddress.IPv4Network(cidr, strict=True)
            except ValueError:
                raise invalid("v4_cidr_blocks", f"{cidr!r} is not a valid IPv4 CIDR") from None
            if not 16 <= net.prefixlen <= 28:
                raise invalid("v4_cidr_blocks", f"prefix of {cidr} must be between /16 and /28")
            blocks.append(net)
        for other in self.cloud.subnets.values():
            if other.network_id != network.id:
                continue
            for cidr in other.v4_cidr_blocks:
                if any(net.overlaps(ipaddress.IPv4Network(cidr)) for net in blocks):
                    raise precondition(
                        f"CIDR blocks of the new subnet overlap with subnet {other.id} ({cidr})"
                    )
        subnet = subnet_pb2.Subnet(
            id=new_id("e9b"),
            folder_id=folder_id,
            created_at=now(),
            name=request.name,
            description=request.description,
            labels=dict(request.labels),
            network_id=network.id,
            zone_id=zone_id,
            v4_cidr_blocks=[str(b) for b in blocks],
            route_table_id=request.route_table_id,
        )
        if request.HasField("dhcp_options"):
            subnet.dhcp_options.CopyFrom(request.dhcp_options)
        self.cloud.subnets[subnet.id] = subnet
        return finished(
            self.cloud,
            "Create subnet",
            subnet_service_pb2.CreateSubnetMetadata(subnet_id=subnet.id),
            subnet,
            "e9b",
        )

    def Update(self, request, context):  # noqa: N802
        """Only the route table (what the Neutron drivers change), as an update mask says."""
        subnet = self.cloud.get(self.cloud.subnets, "Subnet", request.subnet_id)
        paths = set(request.update_mask.paths)
        if paths - {"route_table_id"}:
            raise invalid("update_mask", f"unsupported by the double: {sorted(paths)}")
        if "route_table_id" in paths:
            if request.route_table_id:
                table = self.cloud.get(self.cloud.route_tables, "RouteTable",
                                       request.route_table_id)
                if table.network_id != subnet.network_id:
                    raise precondition(
                        f"Route table {table.id} is in network {table.network_id}, "
                        f"subnet {subnet.id} in {subnet.network_id}"
                    )
            subnet.route_table_id = request.route_table_id
        meta = subnet_service_pb2.UpdateSubnetMetadata(subnet_id=subnet.id)
        return finished(self.cloud, "Update subnet", meta, clone(subnet), "e9b")

    def Delete(self, request, context):  # noqa: N802
        self.cloud.get(self.cloud.subnets, "Subnet", request.subnet_id)
        if used_internal(self.cloud, request.subnet_id):
            raise precondition(f"Subnet {request.subnet_id} is in use: it has allocated addresses")
        del self.cloud.subnets[request.subnet_id]
        meta = subnet_service_pb2.DeleteSubnetMetadata(subnet_id=request.subnet_id)
        return finished(self.cloud, "Delete subnet", meta, None, "e9b")


class AddressService(address_service_pb2_grpc.AddressServiceServicer):
    def __init__(self, cloud: Cloud):
        self.cloud = cloud

    def Get(self, request, context):  # noqa: N802 - gRPC method names
        return clone(self.cloud.get(self.cloud.addresses, "Address", request.address_id))

    def GetByValue(self, request, context):  # noqa: N802
        for addr in self.cloud.addresses.values():
            if (
                request.external_ipv4_address
                and addr.external_ipv4_address.address == request.external_ipv4_address
            ):
                return clone(addr)
            if (
                request.internal_ipv4_address
                and addr.internal_ipv4_address.address == request.internal_ipv4_address
            ):
                return clone(addr)
        value = request.external_ipv4_address or request.internal_ipv4_address
        raise ApiError(grpc.StatusCode.NOT_FOUND, f"Address {value} not found")

    def List(self, request, context):  # noqa: N802
        self.cloud.folder(request.folder_id)
        items, token = listed(
            self.cloud.addresses.values(),
            request.folder_id,
            request.filter,
            request.page_size,
            request.page_token,
        )
        return address_service_pb2.ListAddressesResponse(addresses=items, next_page_token=token)

    def Create(self, request, context):  # noqa: N802
        folder_id = self.cloud.folder(request.folder_id)
        check_name("Address", request.name, self.cloud.addresses, folder_id)
        addr = address_pb2.Address(
            id=new_id("e9b"),
            folder_id=folder_id,
            created_at=now(),
            name=request.name,
            description=request.description,
            labels=dict(request.labels),
            reserved=True,
            used=False,
            ip_version=address_pb2.Address.IPV4,
            deletion_protection=request.deletion_protection,
        )
        if request.HasField("external_ipv4_address_spec"):
            spec = request.external_ipv4_address_spec
            zone_id = self.cloud.zone(spec.zone_id)
            if spec.address:
                raise invalid(
                    "external_ipv4_address_spec.address",
                    "a specific public address cannot be requested",
                )
            addr.type = address_pb2.Address.EXTERNAL
            addr.external_ipv4_address.address = allocate_external(self.cloud)
            addr.external_ipv4_address.zone_id = zone_id
            addr.external_ipv4_address.requirements.CopyFrom(spec.requirements)
        elif request.HasField("internal_ipv4_address_spec"):
            spec = request.internal_ipv4_address_spec
            subnet = self.cloud.get(self.cloud.subnets, "Subnet", spec.subnet_id)
            addr.type = address_pb2.Address.INTERNAL
            addr.internal_ipv4_address.address = allocate_internal(self.cloud, subnet, spec.address)
            addr.internal_ipv4_address.subnet_id = subnet.id
        else:
            raise invalid("address_spec", "Field is required")
        self.cloud.addresses[addr.id] = addr
        meta = address_service_pb2.CreateAddressMetadata(address_id=addr.id)
        return finished(self.cloud, "Create address", meta, addr, "e9b")

    def Delete(self, request, context):  # noqa: N802
        addr = self.cloud.get(self.cloud.addresses, "Address", request.address_id)
        if addr.used:
            raise precondition(f"Address {addr.id} is used and cannot be deleted")
        if addr.deletion_protection:
            raise precondition(f"Address {addr.id} is protected from deletion")
        del self.cloud.addresses[addr.id]
        meta = address_service_pb2.DeleteAddressMetadata(address_id=addr.id)
        return finished(self.cloud, "Delete address", meta, None, "e9b")
