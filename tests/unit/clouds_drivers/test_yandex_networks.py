"""YandexNetworks and YandexAddresses against the Yandex gRPC double in-process: what each
row of the correspondence table does in Yandex VPC, with a short-lived IAM token as the
Neutron drivers get it."""

from __future__ import annotations

import pytest
from yandex.cloud.compute.v1 import instance_service_pb2
from yandex.cloud.compute.v1.instance_service_pb2_grpc import InstanceServiceStub
from yandex.cloud.vpc.v1 import (
    address_pb2,
    address_service_pb2,
    route_table_service_pb2,
    subnet_service_pb2,
)
from yandex.cloud.vpc.v1.address_service_pb2_grpc import AddressServiceStub
from yandex.cloud.vpc.v1.route_table_service_pb2_grpc import RouteTableServiceStub
from yandex.cloud.vpc.v1.subnet_service_pb2_grpc import SubnetServiceStub

from clouds_drivers.providers import compute
from clouds_drivers.providers.base import Account, CloudError
from clouds_drivers.providers.yandex_instances import YandexInstances
from clouds_drivers.providers.yandex_networks import YandexAddresses, YandexNetworks
from clouds_drivers.tags import named_tags


@pytest.fixture
def account(yc):
    provider, long_term, double = yc
    token = provider.issue_credentials(long_term).secrets
    return provider, Account("yandex", double["zone"], None, token,
                             {"folder_id": double["folder_id"]}), double


def _tables(nets: YandexNetworks) -> list:
    return list(nets.sdk.client(RouteTableServiceStub).List(
        route_table_service_pb2.ListRouteTablesRequest(folder_id=nets.folder_id)).route_tables)


def _route_table_of(nets: YandexNetworks, subnet_id: str) -> str:
    return nets.sdk.client(SubnetServiceStub).Get(
        subnet_service_pb2.GetSubnetRequest(subnet_id=subnet_id)).route_table_id


def test_network_subnets_and_router_rows(account):
    provider, acct, double = account
    nets = YandexNetworks(provider, acct)
    assert double["zone"] in nets.zones()
    vpc = nets.create_vpc("10.7.0.0/16", named_tags("network", "N1", "p1"))
    first = nets.create_subnet(vpc, "10.7.1.0/24", double["zone"],
                               named_tags("subnet", "S1", "p1"))
    assert nets.subnets_of(vpc) == [first]

    gateway = nets.create_internet_gateway(named_tags("router", "R1", "p1"))
    assert nets.attached_vpcs(gateway) == [] and _tables(nets) == []
    nets.attach_internet_gateway(gateway, vpc)
    [table] = _tables(nets)
    assert table.network_id == vpc and table.labels["openstack-id"] == "r1"
    assert [(r.destination_prefix, r.gateway_id) for r in table.static_routes] == [
        ("0.0.0.0/0", gateway)]
    assert nets.attached_vpcs(gateway) == [vpc]
    assert _route_table_of(nets, first) == table.id
    second = nets.create_subnet(vpc, "10.7.2.0/24", double["zone"],
                                named_tags("subnet", "S2", "p1"))
    assert _route_table_of(nets, second) == table.id  # routed like the network's others

    with pytest.raises(CloudError) as caught:  # Yandex: a gateway in use stays
        nets.delete_internet_gateway(gateway)
    assert caught.value.code == "FAILED_PRECONDITION"

    nets.detach_internet_gateway(gateway, vpc)
    assert _tables(nets) == [] and nets.attached_vpcs(gateway) == []
    assert _route_table_of(nets, first) == "" and _route_table_of(nets, second) == ""
    nets.delete_internet_gateway(gateway)
    nets.delete_internet_gateway(gateway)  # already gone: not an error
    for subnet in (first, second):
        nets.delete_subnet(subnet)
    nets.delete_subnet(first)
    assert nets.subnets_of(vpc) == []
    nets.delete_vpc(vpc)
    nets.delete_vpc(vpc)


def test_floating_ip_is_a_reserved_address_on_the_instance_nat(account):
    provider, acct, double = account
    nets = YandexNetworks(provider, acct)
    vpc = nets.create_vpc("10.8.0.0/16", named_tags("network", "N2", "p1"))
    subnet = nets.create_subnet(vpc, "10.8.1.0/24", double["zone"],
                                named_tags("subnet", "S3", "p1"))
    server = YandexInstances(provider, acct).launch(compute.Launch(
        name="11111111-2222-3333-4444-555555555555", image_id=double["image_id"],
        instance_type="s3-c2-m8", zone=double["zone"], subnet_id=subnet,
        private_ip="10.8.1.10"))
    addresses = YandexAddresses(provider, acct)
    address_api = addresses.sdk.client(AddressServiceStub)
    reserved = addresses.sdk.wait_operation_and_get_result(
        address_api.Create(address_service_pb2.CreateAddressRequest(
            folder_id=double["folder_id"],
            external_ipv4_address_spec=address_service_pb2.ExternalIpv4AddressSpec(
                zone_id=double["zone"]))),
        response_type=address_pb2.Address).response
    public = reserved.external_ipv4_address.address

    with pytest.raises(CloudError, match="not a static public address reserved") as caught:
        addresses.associate("203.0.113.9", server.id, "10.8.1.10", {})
    assert caught.value.code == "FAILED_PRECONDITION"

    allocation = addresses.associate(public, server.id, "10.8.1.10", {})
    assert allocation == reserved.id
    nic = addresses.instances.Get(instance_service_pb2.GetInstanceRequest(
        instance_id=server.id)).network_interfaces[0]
    assert nic.primary_v4_address.one_to_one_nat.address == public
    assert address_api.Get(address_service_pb2.GetAddressRequest(address_id=reserved.id)).used

    addresses.release(allocation, server.id)
    nic = addresses.sdk.client(InstanceServiceStub).Get(instance_service_pb2.GetInstanceRequest(
        instance_id=server.id)).network_interfaces[0]
    assert not nic.primary_v4_address.one_to_one_nat.address
    kept = address_api.Get(address_service_pb2.GetAddressRequest(address_id=reserved.id))
    assert not kept.used  # the pool's address stays reserved, free for the next floating IP
    addresses.release(allocation, server.id)  # nothing left to take off: not an error
    YandexInstances(provider, acct).terminate(server.id)
    addresses.release(allocation, server.id)  # the instance is gone: not an error


def test_one_nat_gateway_routes_several_networks(account):
    """A router with interfaces on two networks: a route table in each, through one gateway;
    detaching one network leaves the other routed."""
    provider, acct, double = account
    nets = YandexNetworks(provider, acct)
    first = nets.create_vpc("10.8.0.0/16", named_tags("network", "N1", "p1"))
    second = nets.create_vpc("10.9.0.0/16", named_tags("network", "N2", "p1"))
    subnets = [nets.create_subnet(vpc, cidr, double["zone"], named_tags("subnet", name, "p1"))
               for vpc, cidr, name in ((first, "10.8.1.0/24", "S1"),
                                       (second, "10.9.1.0/24", "S2"))]
    gateway = nets.create_internet_gateway(named_tags("router", "R1", "p1"))
    nets.attach_internet_gateway(gateway, first)
    nets.attach_internet_gateway(gateway, second)
    assert nets.attached_vpcs(gateway) == sorted([first, second])
    assert len({_route_table_of(nets, s) for s in subnets}) == 2

    nets.detach_internet_gateway(gateway, first)
    assert nets.attached_vpcs(gateway) == [second]
    assert _route_table_of(nets, subnets[0]) == "" and _route_table_of(nets, subnets[1])
    nets.detach_internet_gateway(gateway, second)
    assert nets.attached_vpcs(gateway) == [] and _tables(nets) == []
    nets.delete_internet_gateway(gateway)
    for subnet in subnets:
        nets.delete_subnet(subnet)
    nets.delete_vpc(first)
    nets.delete_vpc(second)
