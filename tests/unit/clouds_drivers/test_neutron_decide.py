"""The Neutron drivers' pure decisions: VPC of a subnet, refusals, zone, one gateway one VPC,
for AWS and for Yandex.Cloud (where the two clouds' rules differ)."""

from __future__ import annotations

import pytest

from clouds_drivers.neutron import decide
from clouds_drivers.neutron.decide import AWS, YANDEX
from clouds_drivers.tags import named_tags

BOTH = pytest.mark.parametrize("rules", [AWS, YANDEX], ids=["aws", "yandex"])


@pytest.mark.parametrize(("cidr", "vpc"), [
    ("10.42.1.0/24", "10.42.0.0/16"),
    ("10.42.255.240/28", "10.42.0.0/16"),
    ("172.16.0.0/16", "172.16.0.0/16"),
    ("192.168.7.5/24", "192.168.0.0/16"),
])
def test_vpc_is_the_16_holding_the_subnet(cidr, vpc):
    assert decide.vpc_cidr(cidr) == vpc
    assert decide.check_subnet(cidr, 4, [], AWS) == vpc


@BOTH
def test_wider_than_16_or_narrower_than_28_is_refused(rules):
    with pytest.raises(decide.Refused, match=f"wider than /16: a {rules.cloud} subnet"):
        decide.check_subnet("10.0.0.0/15", 4, [], rules)
    with pytest.raises(decide.Refused, match="narrower than /28"):
        decide.check_subnet("10.0.0.0/29", 4, [], rules)


@BOTH
def test_ipv6_is_refused(rules):
    with pytest.raises(decide.Refused, match=f"IPv6 subnets are not supported in {rules.cloud}"):
        decide.check_subnet("fd00::/64", 6, [], rules)


@pytest.mark.parametrize(("rules", "start", "ok"), [
    (AWS, "10.1.2.2", False), (AWS, "10.1.2.3", False), (AWS, "10.1.2.4", True),
    (AWS, "10.1.2.100", True),
    (YANDEX, "10.1.2.1", False), (YANDEX, "10.1.2.2", False), (YANDEX, "10.1.2.3", True)])
def test_pools_must_start_after_what_the_cloud_keeps(rules, start, ok):
    pools = [{"start": "10.1.2.200", "end": "10.1.2.254"}, {"start": start, "end": "10.1.2.199"}]
    if ok:
        assert decide.check_subnet("10.1.2.0/24", 4, pools, rules) == "10.1.0.0/16"
    else:
        lowest = f"10.1.2.{rules.reserved_at_start}".replace(".", r"\.")
        with pytest.raises(decide.Refused, match=f"{rules.cloud} reserves .* start={lowest}"):
            decide.check_subnet("10.1.2.0/24", 4, pools, rules)


def test_an_aws_network_is_one_vpc():
    decide.check_same_vpc(None, "10.1.0.0/16", AWS)
    decide.check_same_vpc("10.1.0.0/16", "10.1.0.0/16", AWS)
    with pytest.raises(decide.Refused, match="10.1.0.0/16"):
        decide.check_same_vpc("10.1.0.0/16", "10.2.0.0/16", AWS)


def test_a_yandex_network_has_no_cidr_so_its_subnets_may_lie_anywhere():
    decide.check_same_vpc("10.1.0.0/16", "10.2.0.0/16", YANDEX)


def test_rules_by_provider_name():
    assert decide.rules_of("aws") is AWS and decide.rules_of("yandex") is YANDEX


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


@BOTH
def test_a_gateway_is_attached_once_per_vpc(rules):
    assert decide.check_gateway_vpc([], "vpc-1", rules) is True
    assert decide.check_gateway_vpc(["vpc-1"], "vpc-1", rules) is False


def test_an_aws_internet_gateway_serves_one_vpc():
    with pytest.raises(decide.Conflict, match="internet gateway of a router serves one VPC"):
        decide.check_gateway_vpc(["vpc-1"], "vpc-2", decide.AWS)


def test_a_yandex_nat_gateway_routes_several_networks():
    assert decide.check_gateway_vpc(["net-1"], "net-2", decide.YANDEX) is True
    assert decide.check_gateway_vpc(["net-1", "net-2"], "net-2", decide.YANDEX) is False


@pytest.mark.parametrize(("code", "status"), [
    (None, 503), ("InternalError", 503), ("RequestLimitExceeded", 503),
    ("DependencyViolation", 409), ("Resource.AlreadyAssociated", 409),
    ("VpcLimitExceeded", 409), ("InvalidParameterValue", 400), ("InvalidSubnet.Range", 400),
    ("FAILED_PRECONDITION", 409), ("ALREADY_EXISTS", 409), ("INVALID_ARGUMENT", 400),
    ("NOT_FOUND", 400), ("UNAVAILABLE", 503), ("DEADLINE_EXCEEDED", 503),
    ("UNAUTHENTICATED", 503)])
def test_status_of_cloud_errors(code, status):
    assert decide.status_of_cloud_error(code) == status


def test_tags_name_the_openstack_object():
    tags = named_tags("subnet", "s-1", "p-1")
    assert tags[decide.TAG_ID] == "s-1" and tags[decide.TAG_PROJECT] == "p-1"
    assert tags[decide.TAG_KIND] == "subnet"


@BOTH
def test_requested_zone_must_be_in_the_region(rules):
    decide.check_zone("us-east-2b", ["us-east-2a", "us-east-2b"], rules)
    with pytest.raises(decide.Refused, match=f"{rules.cloud} region .*us-east-2a, us-east-2b"):
        decide.check_zone("eu-west-1a", ["us-east-2a", "us-east-2b"], rules)
