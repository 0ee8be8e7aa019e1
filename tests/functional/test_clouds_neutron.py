"""Spec 000's correspondence table for Neutron, on the sandbox's real Neutron with the
``aws`` mechanism driver, ``subnet_az`` and ``aws_router`` loaded as the spec configures them,
the Clouds API registered in the catalog as the spec says, moto as AWS and the Yandex double
as Yandex.Cloud (the same registered names serve Yandex-bound projects).

After each step, what moto or the Yandex double holds for the project (found by the drivers'
tags or labels) is compared with exactly what the table says; refusals leave both Neutron and
the cloud unchanged; a project without a cloud account leaves moto untouched.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from openstack import exceptions as sdk_exc

from tests.functional.clouds_harness import Clouds, external_network, registered_clouds_api
from tests.functional.yandex_vpc import YandexVpc

pytestmark = pytest.mark.functional

ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
REGION, ZONE, OTHER_ZONE = "us-east-2", "us-east-2a", "us-east-2b"


@pytest.fixture(scope="module")
def clouds(sandbox, tmp_path_factory) -> Iterator[Clouds]:
    """The Clouds API, registered in Keystone as service ``clouds`` (spec steps 10-11)."""
    with registered_clouds_api(sandbox, tmp_path_factory.mktemp("clouds")) as api:
        yield api


@pytest.fixture
def ec2(sandbox) -> Any:
    return boto3.client("ec2", endpoint_url=sandbox.info["doubles"]["aws"]["endpoint_url"],
                        region_name=REGION, aws_access_key_id=ACCESS_KEY,
                        aws_secret_access_key=SECRET_KEY)


@contextlib.contextmanager
def aws_bound(clouds: Clouds, project: Any) -> Iterator[None]:
    """``openstack aos clouds add aws`` for the project, as the guide says; undone after."""
    added = clouds.openstack("aos", "clouds", "add", "aws", "--project", project.name,
                             "--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY,
                             "--region", REGION, "--az", ZONE)
    assert added.code == 0, added.err
    try:
        yield
    finally:
        _clean_neutron(clouds.sandbox.conn("admin"), project.id)
        clouds.openstack("aos", "clouds", "delete", "--project", project.name, "--force")


def _clean_neutron(admin: Any, project_id: str) -> None:
    net = admin.network
    for router in net.routers(project_id=project_id):
        for port in net.ports(device_id=router.id, device_owner="network:router_interface"):
            with contextlib.suppress(sdk_exc.SDKException):
                net.remove_interface_from_router(router, port_id=port.id)
        with contextlib.suppress(sdk_exc.SDKException):
            net.delete_router(router)
    for network in net.networks(project_id=project_id):
        with contextlib.suppress(sdk_exc.SDKException):
            net.delete_network(network)


def _tags(item: dict[str, Any]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in item.get("Tags", [])}


def cloud_state(ec2: Any, project_id: str) -> dict[str, Any]:
    """What moto holds for the project: objects tagged with its id, and their links."""
    mine = [{"Name": "tag:openstack:project", "Values": [project_id]}]
    vpcs = {v["VpcId"]: v for v in ec2.describe_vpcs(Filters=mine)["Vpcs"]}
    state: dict[str, Any] = {
        "vpcs": {_tags(v)["openstack:id"]: v["CidrBlock"] for v in vpcs.values()},
        "subnets": {}, "gateways": {}, "routes": {},
    }
    for s in ec2.describe_subnets(Filters=mine)["Subnets"]:
        state["subnets"][_tags(s)["openstack:id"]] = (
            s["CidrBlock"], s["AvailabilityZone"], _tags(vpcs[s["VpcId"]])["openstack:id"])
    igws = ec2.describe_internet_gateways(Filters=mine)["InternetGateways"]
    names = {g["InternetGatewayId"]: _tags(g)["openstack:id"] for g in igws}
    for g in igws:
        attached = [_tags(vpcs[a["VpcId"]])["openstack:id"] for a in g.get("Attachments", [])]
        state["gateways"][names[g["InternetGatewayId"]]] = attached
    for vpc_id, vpc in vpcs.items():
        tables = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])
        state["routes"][_tags(vpc)["openstack:id"]] = sorted(
            (r["DestinationCidrBlock"], names.get(r.get("GatewayId"), r.get("GatewayId")))
            for t in tables["RouteTables"] for r in t["Routes"]
            if r.get("GatewayId", "local") != "local")
    return state


def everything(ec2: Any) -> tuple[set[str], set[str], set[str]]:
    """Ids of every VPC, subnet and gateway in the account (any project or none)."""
    return ({v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]},
            {s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]},
            {g["InternetGatewayId"]
             for g in ec2.describe_internet_gateways()["InternetGateways"]})


def resource_map(clouds: Clouds, project_id: str) -> dict[tuple[str, str], str]:
    admin = clouds.sandbox.conn("admin")
    answer = admin.session.get(f"{clouds.url}/v1/clouds/{project_id}/resources")
    assert answer.status_code == 200, answer.text
    return {(r["kind"], r["openstack_id"]): r["cloud_resource_id"] for r in answer.json()}


def pools(cidr_prefix: str) -> list[dict[str, str]]:
    return [{"start": f"{cidr_prefix}.4", "end": f"{cidr_prefix}.254"}]


def refused(status: int, *words: str):
    """Context: the SDK call fails with ``status`` and a message holding ``words``."""
    @contextlib.contextmanager
    def check() -> Iterator[None]:
        with pytest.raises(sdk_exc.HttpException) as caught:
            yield
        text = str(caught.value)
        assert caught.value.status_code == status, text
        for word in words:
            assert word in text, text
        assert "Traceback" not in text
    return check()


def test_table_rows_for_an_aws_project(clouds: Clouds, sandbox, project, ec2) -> None:
    admin = sandbox.conn("admin")
    user = project.conn.network
    pid = project.id
    ext = external_network(admin)
    try:
        with aws_bound(clouds, project):
            # 1. network create -> nothing in the cloud
            net = user.create_network(name="aws-net")
            assert cloud_state(ec2, pid)["vpcs"] == {}

            # 2. subnet create (<= /16) -> VPC with the /16 + subnet in the project's AZ
            sub1 = user.create_subnet(network_id=net.id, ip_version=4, cidr="10.42.1.0/24",
                                      allocation_pools=pools("10.42.1"))
            state = cloud_state(ec2, pid)
            assert state["vpcs"] == {net.id: "10.42.0.0/16"}
            assert state["subnets"] == {sub1.id: ("10.42.1.0/24", ZONE, net.id)}
            mapped = resource_map(clouds, pid)
            assert set(mapped) == {("network", net.id), ("subnet", sub1.id)}

            # subnet_az: a second subnet of the network in another zone, same VPC
            answer = project.conn.network.post("/subnets", json={"subnet": {
                "network_id": net.id, "ip_version": 4, "cidr": "10.42.2.0/24",
                "allocation_pools": pools("10.42.2"), "availability_zone": OTHER_ZONE}})
            assert answer.status_code == 201, answer.text
            sub2 = answer.json()["subnet"]
            assert sub2["availability_zone"] == OTHER_ZONE
            state = cloud_state(ec2, pid)
            assert state["vpcs"] == {net.id: "10.42.0.0/16"}
            assert state["subnets"][sub2["id"]] == ("10.42.2.0/24", OTHER_ZONE, net.id)
            # later reads show each subnet's zone (the project's, or the one it picked)
            listed = project.conn.network.get(f"/subnets?network_id={net.id}").json()
            assert {s["id"]: s["availability_zone"] for s in listed["subnets"]} == {
                sub1.id: ZONE, sub2["id"]: OTHER_ZONE}

            # 3. router create -> internet gateway, unattached
            router = user.create_router(name="aws-router")
            state = cloud_state(ec2, pid)
            assert state["gateways"] == {router.id: []}
            assert state["routes"] == {net.id: []}
            assert ("router", router.id) in resource_map(clouds, pid)

            # 4. gateway to router -> nothing
            before = everything(ec2)
            user.update_router(router, external_gateway_info={"network_id": ext.id})
            assert everything(ec2) == before
            assert cloud_state(ec2, pid)["gateways"] == {router.id: []}

            # 5. interface to router -> IGW attached to the VPC + default route
            user.add_interface_to_router(router, subnet_id=sub1.id)
            state = cloud_state(ec2, pid)
            assert state["gateways"] == {router.id: [net.id]}
            assert state["routes"] == {net.id: [("0.0.0.0/0", router.id)]}
            # a second subnet of the same VPC: still one attachment, one route
            user.add_interface_to_router(router, subnet_id=sub2["id"])
            assert cloud_state(ec2, pid) == state

            # refusal: an interface from another VPC (one IGW serves one VPC)
            net2 = user.create_network(name="aws-net2")
            sub3 = user.create_subnet(network_id=net2.id, ip_version=4,
                                      cidr="10.43.1.0/24", allocation_pools=pools("10.43.1"))
            state = cloud_state(ec2, pid)
            ports_before = {p.id for p in user.ports(device_id=router.id)}
            with refused(409, "one VPC"):
                user.add_interface_to_router(router, subnet_id=sub3.id)
            assert cloud_state(ec2, pid) == state
            assert {p.id for p in user.ports(device_id=router.id)} == ports_before

            # 10. router interface delete -> IGW detached (with the VPC's last interface)
            user.remove_interface_from_router(router, subnet_id=sub2["id"])
            assert cloud_state(ec2, pid)["gateways"] == {router.id: [net.id]}
            user.remove_interface_from_router(router, subnet_id=sub1.id)
            state = cloud_state(ec2, pid)
            assert state["gateways"] == {router.id: []}
            assert state["routes"] == {net.id: [], net2.id: []}

            # 8. subnet delete -> cloud subnet deleted; VPC deleted with its last subnet
            user.delete_subnet(sub2["id"])
            state = cloud_state(ec2, pid)
            assert set(state["subnets"]) == {sub1.id, sub3.id}
            assert set(state["vpcs"]) == {net.id, net2.id}
            user.delete_subnet(sub1.id)
            state = cloud_state(ec2, pid)
            assert set(state["vpcs"]) == {net2.id}
            assert set(state["subnets"]) == {sub3.id}

            # 9. network delete -> nothing more (its subnets go with it)
            user.delete_network(net)
            user.delete_network(net2)
            state = cloud_state(ec2, pid)
            assert (state["vpcs"], state["subnets"]) == ({}, {})

            # 11. router delete -> IGW deleted
            user.delete_router(router)
            assert cloud_state(ec2, pid)["gateways"] == {}
            assert resource_map(clouds, pid) == {}
    finally:
        admin.network.delete_network(ext, ignore_missing=True)


def test_refusals_leave_both_sides_unchanged(clouds: Clouds, sandbox, project, ec2) -> None:
    admin = sandbox.conn("admin")
    user = project.conn.network
    with aws_bound(clouds, project):
        net = user.create_network(name="aws-net")
        before = everything(ec2)

        with refused(400, "wider than /16"):
            user.create_subnet(network_id=net.id, ip_version=4, cidr="10.60.0.0/15")
        with refused(400, "10.61.1.4"):
            user.create_subnet(network_id=net.id, ip_version=4, cidr="10.61.1.0/24")
        good = user.create_subnet(network_id=net.id, ip_version=4, cidr="10.63.1.0/24",
                                  allocation_pools=pools("10.63.1"))
        with refused(400, "10.63.1.4"):
            user.update_subnet(good, allocation_pools=[{"start": "10.63.1.2",
                                                        "end": "10.63.1.254"}])
        assert user.get_subnet(good.id).allocation_pools == pools("10.63.1")
        user.delete_subnet(good)
        with refused(400, "IPv6"):
            user.create_subnet(network_id=net.id, ip_version=6, cidr="fd00:61::/64")
        with refused(400, "provider networks"):
            admin.network.create_network(
                name="aws-provider", project_id=project.id, provider_network_type="flat",
                provider_physical_network=f"p{uuid.uuid4().hex[:6]}")
        # a subnet_az zone outside the account's region
        answer = project.conn.network.post("/subnets", json={"subnet": {
            "network_id": net.id, "ip_version": 4, "cidr": "10.62.1.0/24",
            "allocation_pools": pools("10.62.1"), "availability_zone": "eu-west-1a"}})
        assert answer.status_code == 400, answer.text
        assert "eu-west-1a" in answer.text and "us-east-2a" in answer.text
        assert "Traceback" not in answer.text

        assert list(user.subnets(network_id=net.id)) == []
        assert [n.id for n in user.networks(project_id=project.id)] == [net.id]
        assert everything(ec2) == before
        assert cloud_state(ec2, project.id)["vpcs"] == {}
        assert resource_map(clouds, project.id) == {}


def test_a_project_without_account_leaves_the_cloud_alone(clouds: Clouds, sandbox, project,
                                                          ec2) -> None:
    user = project.conn.network
    before = everything(ec2)
    net = user.create_network(name="plain")
    sub = user.create_subnet(network_id=net.id, ip_version=4, cidr="10.70.0.0/15")
    router = user.create_router(name="plain")
    user.add_interface_to_router(router, subnet_id=sub.id)
    assert everything(ec2) == before
    user.remove_interface_from_router(router, subnet_id=sub.id)
    user.delete_router(router)
    user.delete_network(net)
    assert everything(ec2) == before


@contextlib.contextmanager
def yandex_bound(clouds: Clouds, project: Any, vpc: YandexVpc, key_file: Any
                 ) -> Iterator[None]:
    """``openstack aos clouds add yandex`` for the project, as the guide says; undone after."""
    added = clouds.openstack(*vpc.bind_args(project.name, key_file))
    assert added.code == 0, added.err
    try:
        yield
    finally:
        _clean_neutron(clouds.sandbox.conn("admin"), project.id)
        clouds.openstack("aos", "clouds", "delete", "--project", project.name, "--force")


def test_table_rows_for_a_yandex_project(clouds: Clouds, sandbox, project, tmp_path) -> None:
    """The same rows on Yandex VPC: network → Yandex network with its first subnet, router →
    NAT gateway, interface → the network's route table 0.0.0.0/0 through it on every subnet."""
    admin = sandbox.conn("admin")
    user = project.conn.network
    pid = project.id
    vpc = YandexVpc(sandbox.info["doubles"]["yandex"])
    zone = vpc.double["zone"]
    before = vpc.everything()
    ext = external_network(admin)
    try:
        with yandex_bound(clouds, project, vpc, tmp_path / "private.key"):
            # 1. network create -> nothing in the cloud
            net = user.create_network(name="yc-net")
            assert vpc.state(pid)["networks"] == set()

            # refusals: the pool must leave Yandex's .0-.2; no IPv6
            with refused(400, "Yandex.Cloud reserves the first 3", "10.52.1.3"):
                user.create_subnet(network_id=net.id, ip_version=4, cidr="10.52.1.0/24",
                                   allocation_pools=[{"start": "10.52.1.2",
                                                      "end": "10.52.1.254"}])
            with refused(400, "IPv6", "Yandex.Cloud"):
                user.create_subnet(network_id=net.id, ip_version=6, cidr="fd00:52::/64")
            assert vpc.everything() == before

            # 2. subnet create -> a Yandex network (with the first subnet) + the subnet
            sub1 = user.create_subnet(network_id=net.id, ip_version=4, cidr="10.52.1.0/24",
                                      allocation_pools=[{"start": "10.52.1.3",
                                                         "end": "10.52.1.254"}])
            state = vpc.state(pid)
            assert state["networks"] == {net.id}
            assert state["subnets"] == {sub1.id: ("10.52.1.0/24", zone, net.id, [])}
            assert set(resource_map(clouds, pid)) == {("network", net.id), ("subnet", sub1.id)}

            # 3. router create -> NAT gateway, routing nothing
            router = user.create_router(name="yc-router")
            assert vpc.state(pid)["routers"] == {router.id: []}
            assert ("router", router.id) in resource_map(clouds, pid)

            # 4. gateway to router -> nothing
            unchanged = vpc.everything()
            user.update_router(router, external_gateway_info={"network_id": ext.id})
            assert vpc.everything() == unchanged

            # 5. interface to router -> route table 0.0.0.0/0 via the gateway on the subnets
            user.add_interface_to_router(router, subnet_id=sub1.id)
            state = vpc.state(pid)
            assert state["routers"] == {router.id: [net.id]}
            assert state["routes"] == {net.id: [("0.0.0.0/0", router.id)]}
            assert state["subnets"][sub1.id] == ("10.52.1.0/24", zone, net.id, [router.id])
            # a later subnet of the network is routed the same way (no second table)
            sub2 = user.create_subnet(network_id=net.id, ip_version=4, cidr="10.53.1.0/24",
                                      allocation_pools=[{"start": "10.53.1.3",
                                                         "end": "10.53.1.254"}])
            state = vpc.state(pid)
            assert state["subnets"][sub2.id] == ("10.53.1.0/24", zone, net.id, [router.id])
            assert state["routes"] == {net.id: [("0.0.0.0/0", router.id)]}

            net2 = user.create_network(name="yc-net2")
            sub3 = user.create_subnet(network_id=net2.id, ip_version=4, cidr="10.54.1.0/24",
                                      allocation_pools=[{"start": "10.54.1.3",
                                                         "end": "10.54.1.254"}])
            # a second network on the same router: its own route table, same NAT gateway
            # (unlike an AWS internet gateway, which serves one VPC)
            user.add_interface_to_router(router, subnet_id=sub3.id)
            state = vpc.state(pid)
            assert sorted(state["routers"][router.id]) == sorted([net.id, net2.id])
            assert state["routes"] == {net.id: [("0.0.0.0/0", router.id)],
                                       net2.id: [("0.0.0.0/0", router.id)]}

            # 10. router interface delete -> that network's route table goes; the other stays
            user.remove_interface_from_router(router, subnet_id=sub1.id)
            state = vpc.state(pid)
            assert state["routers"] == {router.id: [net2.id]}
            assert state["routes"] == {net.id: [], net2.id: [("0.0.0.0/0", router.id)]}
            assert state["subnets"][sub1.id][3] == [] and state["subnets"][sub2.id][3] == []
            user.remove_interface_from_router(router, subnet_id=sub3.id)
            state = vpc.state(pid)
            assert state["routers"] == {router.id: []}
            assert state["routes"] == {net.id: [], net2.id: []}
            assert [s[3] for s in state["subnets"].values()] == [[], [], []]

            # 8. subnet delete -> Yandex subnet deleted; network deleted with its last one
            user.delete_subnet(sub2.id)
            assert set(vpc.state(pid)["subnets"]) == {sub1.id, sub3.id}
            user.delete_subnet(sub1.id)
            state = vpc.state(pid)
            assert state["networks"] == {net2.id} and set(state["subnets"]) == {sub3.id}

            # 9. network delete -> nothing more (its subnets go with it)
            user.delete_network(net)
            user.delete_network(net2)
            state = vpc.state(pid)
            assert (state["networks"], state["subnets"]) == (set(), {})

            # 11. router delete -> NAT gateway deleted
            user.delete_router(router)
            assert vpc.state(pid)["routers"] == {}
            assert resource_map(clouds, pid) == {}
            assert vpc.everything() == before
    finally:
        admin.network.delete_network(ext, ignore_missing=True)
