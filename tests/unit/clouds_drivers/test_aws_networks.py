"""AwsNetworks against moto in-process: what the Neutron drivers' rows do in EC2."""

from __future__ import annotations

import subprocess
import sys

import pytest
from moto import mock_aws

from clouds_drivers.providers import aws
from clouds_drivers.providers.base import Account, CloudError


@pytest.fixture
def nets():
    with mock_aws():
        account = Account("aws", "us-east-2a", "us-east-2",
                          {"access_key": "AKIAIOSFODNN7EXAMPLE", "secret_key": "x"})
        yield aws.AwsNetworks(aws.AwsProvider(), account)


def _routes(nets, vpc_id):
    tables = nets.ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])
    return sorted((r["DestinationCidrBlock"], r.get("GatewayId"))
                  for t in tables["RouteTables"] for r in t["Routes"])


def test_vpc_subnet_gateway_lifecycle(nets):
    vpc = nets.create_vpc("10.9.0.0/16", {"openstack:id": "net-1"})
    subnet = nets.create_subnet(vpc, "10.9.1.0/24", "us-east-2b", {"openstack:id": "sub-1"})
    described = nets.ec2.describe_subnets(SubnetIds=[subnet])["Subnets"][0]
    assert described["AvailabilityZone"] == "us-east-2b"
    assert {"Key": "openstack:id", "Value": "sub-1"} in described["Tags"]
    assert nets.subnets_of(vpc) == [subnet]

    igw = nets.create_internet_gateway({"openstack:id": "router-1"})
    assert nets.attached_vpcs(igw) == []
    nets.attach_internet_gateway(igw, vpc)
    assert nets.attached_vpcs(igw) == [vpc]
    assert ("0.0.0.0/0", igw) in _routes(nets, vpc)

    nets.detach_internet_gateway(igw, vpc)
    assert nets.attached_vpcs(igw) == []
    assert ("0.0.0.0/0", igw) not in _routes(nets, vpc)
    nets.detach_internet_gateway(igw, vpc)  # nothing left to do is not an error

    nets.delete_subnet(subnet)
    nets.delete_subnet(subnet)
    assert nets.subnets_of(vpc) == []
    nets.delete_vpc(vpc)
    nets.delete_vpc(vpc)
    nets.delete_internet_gateway(igw)
    nets.delete_internet_gateway(igw)
    assert nets.ec2.describe_vpcs(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Vpcs"] == []


def test_zones_of_the_region(nets):
    assert nets.zones() == ["us-east-2a", "us-east-2b", "us-east-2c"]


def test_cloud_refusal_is_a_cloud_error_with_its_code(nets):
    vpc = nets.create_vpc("10.9.0.0/16", {})
    with pytest.raises(CloudError) as caught:
        nets.create_subnet(vpc, "10.8.1.0/24", "us-east-2a", {})
    assert caught.value.code and "10.8.1.0/24" in str(caught.value)


def test_drivers_import_no_service_stack():
    code = ("import sys, clouds_drivers.clouds_api, clouds_drivers.neutron.decide; "
            "print(sorted(m for m in ('flask', 'celery', 'sqlalchemy', 'aos') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def test_elastic_ip_follows_the_floating_ip_and_is_released(nets):
    vpc = nets.create_vpc("10.8.0.0/16", {"openstack:id": "net-8"})
    subnet = nets.create_subnet(vpc, "10.8.1.0/24", "us-east-2a", {"openstack:id": "sub-8"})
    image = nets.ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    instance = nets.ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1,
                                      InstanceType="t3.micro", SubnetId=subnet,
                                      PrivateIpAddress="10.8.1.9")["Instances"][0]["InstanceId"]
    addresses = aws.AwsAddresses(nets.provider, Account(
        "aws", "us-east-2a", "us-east-2", {"access_key": "AKIAIOSFODNN7EXAMPLE",
                                            "secret_key": "x"}))
    allocation = addresses.associate("203.0.113.10", instance, "10.8.1.9",
                                     {"openstack:id": "fip-1"})
    (eip,) = nets.ec2.describe_addresses()["Addresses"]
    assert (eip["PublicIp"], eip["InstanceId"], eip["PrivateIpAddress"]) == \
        ("203.0.113.10", instance, "10.8.1.9")
    addresses.release(allocation)
    assert nets.ec2.describe_addresses()["Addresses"] == []
    addresses.release(allocation)  # already gone: not an error
