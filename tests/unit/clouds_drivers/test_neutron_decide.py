"""The Neutron drivers' pure decisions: VPC of a subnet, refusals, zone, one IGW one VPC."""

from __future__ import annotations

import pytest

from clouds_drivers.neutron import decide
from clouds_drivers.tags import named_tags


@pytest.mark.parametrize(("cidr", "vpc"), [
    ("10.42.1.0/24", "10.42.0.0/16"),
    ("10.42.255.240/28", "10.42.0.0/16"),
    ("172.16.0.0/16", "172.16.0.0/16"),
    ("192.168.7.5/24", "192.168.0.0/16"),
])
def test_vpc_is_the_16_holding_the_subnet(cidr, vpc):
    assert decide.vpc_cidr(cidr) == vpc
    assert decide.check_subnet(cidr, 4, []) == vpc


def test_wider_than_16_is_refused():
    with pytest.raises(decide.Refused, match="wider than /16"):
        decide.check_subnet("10.0.0.0/15", 4, [])


def test_ipv6_is_refused():
    with pytest.raises(decide.Refused, match="IPv6"):
        decide.check_subnet("fd00::/64", 6, [])


@pytest.mark.parametrize(("start", "ok"), [
    ("10.1.2.2", False), ("10.1.2.3", False), ("10.1.2.4", True), ("10.1.2.100", True)])
def test_pools_must_start_at_dot_4(start, ok):
    pools = [{"start": "10.1.2.200", "end": "10.1.2.254"}, {"start": start, "end": "10.1.2.199"}]
    if ok:
        assert decide.check_subnet("10.1.2.0/24", 4, pools) == "10.1.0.0/16"
    else:
        with pytest.raises(decide.Refused, match=r"start=10\.1\.2\.4"):
            decide.check_subnet("10.1.2.0/24", 4, pools)


def test_a_network_is_one_vpc():
    decide.check_same_vpc(None, "10.1.0.0/16")
    decide.check_same_vpc("10.1.0.0/16", "10.1.0.0/16")
    with pytest.raises(decide.Refused, match="10.1.0.0/16"):
        decide.check_same_vpc("10.1.0.0/16", "10.2.0.0/16")


def test_provider_networks():
    tenant = ["local"]
    assert not decide.is_provider_network([{"network_type": "local"}], tenant)
    assert decide.is_provider_network([{"network_type": "flat", "physical_network": "p"}],
                                      tenant)
    assert decide.is_provider_network([{"network_type": "vlan", "physical_network": "p",
                                        "segmentation_id": 100}], ["vlan"])


def test_zone_of_a_subnet():
    assert decide.subnet_zone(None, "us-east-2a") == "us-east-2a"
    assert decide.subnet_zone("", "us-east-2a") == "us-east-2a"
    assert decide.subnet_zone("us-east-2b", "us-east-2a") == "us-east-2b"


def test_one_gateway_serves_one_vpc():
    assert decide.check_gateway_vpc(None, "vpc-1") is True
    assert decide.check_gateway_vpc("vpc-1", "vpc-1") is False
    with pytest.raises(decide.Conflict, match="one VPC"):
        decide.check_gateway_vpc("vpc-1", "vpc-2")


@pytest.mark.parametrize(("code", "status"), [
    (None, 503), ("InternalError", 503), ("RequestLimitExceeded", 503),
    ("DependencyViolation", 409), ("Resource.AlreadyAssociated", 409),
    ("VpcLimitExceeded", 409), ("InvalidParameterValue", 400), ("InvalidSubnet.Range", 400)])
def test_status_of_cloud_errors(code, status):
    assert decide.status_of_cloud_error(code) == status


def test_tags_name_the_openstack_object():
    tags = named_tags("subnet", "s-1", "p-1")
    assert tags[decide.TAG_ID] == "s-1" and tags[decide.TAG_PROJECT] == "p-1"
    assert tags[decide.TAG_KIND] == "subnet"


def test_requested_zone_must_be_in_the_region():
    decide.check_zone("us-east-2b", ["us-east-2a", "us-east-2b"])
    with pytest.raises(decide.Refused, match="us-east-2a, us-east-2b"):
        decide.check_zone("eu-west-1a", ["us-east-2a", "us-east-2b"])
