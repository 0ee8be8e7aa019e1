"""YandexInstances against the Yandex gRPC double in-process: what YandexDriver's operations
do in Yandex Compute, with a short-lived IAM token as the driver gets it."""

from __future__ import annotations

import pytest
from yandex.cloud.compute.v1 import disk_pb2, disk_service_pb2
from yandex.cloud.compute.v1.disk_service_pb2_grpc import DiskServiceStub
from yandex.cloud.vpc.v1 import network_pb2, network_service_pb2, subnet_pb2, subnet_service_pb2
from yandex.cloud.vpc.v1.network_service_pb2_grpc import NetworkServiceStub
from yandex.cloud.vpc.v1.subnet_service_pb2_grpc import SubnetServiceStub

from clouds_drivers.providers import compute
from clouds_drivers.providers.base import Account, CloudError
from clouds_drivers.providers.yandex_instances import YandexInstances, labels_of, preset


@pytest.fixture
def instances(yc):
    """YandexInstances with the short-lived IAM token the Clouds API would hand out."""
    provider, long_term, double = yc
    token = provider.issue_credentials(long_term).secrets
    yield YandexInstances(provider, Account("yandex", double["zone"], None, token,
                                            {"folder_id": double["folder_id"]})), double


def _subnet(api: YandexInstances, double) -> str:
    net = api.sdk.wait_operation_and_get_result(
        api.sdk.client(NetworkServiceStub).Create(network_service_pb2.CreateNetworkRequest(
            folder_id=double["folder_id"], name="n1")),
        response_type=network_pb2.Network).response
    subnet = api.sdk.wait_operation_and_get_result(
        api.sdk.client(SubnetServiceStub).Create(subnet_service_pb2.CreateSubnetRequest(
            folder_id=double["folder_id"], name="s1", network_id=net.id,
            zone_id=double["zone"], v4_cidr_blocks=["10.5.1.0/24"])),
        response_type=subnet_pb2.Subnet).response
    return subnet.id


def test_launch_power_console_image_disk_and_delete(instances):
    api, double = instances
    spec = compute.Launch(name="8f0c2a8e-1111-4c2b-9d8e-5f6a7b8c9d0e",
                          image_id=double["image_id"], instance_type="s3-c2-m8",
                          zone=double["zone"], subnet_id=_subnet(api, double),
                          private_ip="10.5.1.17", public_key="ssh-ed25519 AAAA test",
                          user_data=b"#cloud-config\n",
                          tags={"openstack:id": "8f0c2a8e-1111-4c2b-9d8e-5f6a7b8c9d0e",
                                "openstack:project": "p1", "Name": "x"})
    named: list[str] = []
    made = api.launch(spec, started=named.append)
    assert named == [made.id]  # from the operation's metadata, before its result
    assert made.state == compute.RUNNING and made.private_ip == "10.5.1.17"
    assert made.tags["openstack:id"] == spec.name
    api.stop(made.id)
    assert api.find(made.id).state == compute.STOPPED
    api.start(made.id)
    api.reboot(made.id)
    assert api.find(made.id).state == compute.RUNNING
    assert made.id in api.console_output(made.id)
    image = api.create_image(made.id, f"openstack-snapshot-of-{spec.name}", {"openstack:id": "i"})
    assert image.startswith("fd8")

    disk = api.sdk.wait_operation_and_get_result(
        api.sdk.client(DiskServiceStub).Create(disk_service_pb2.CreateDiskRequest(
            folder_id=double["folder_id"], name="d1", zone_id=double["zone"],
            size=1024**3)), response_type=disk_pb2.Disk).response
    api.attach_volume(made.id, disk.id, "vdb")
    api.detach_volume(made.id, disk.id, "vdb")

    api.terminate(made.id)
    assert api.find(made.id) is None
    api.terminate(made.id)  # already gone: not an error


def test_an_unknown_type_is_refused_before_any_call():
    with pytest.raises(CloudError, match="unknown Yandex instance type 's9-c1-m1'"):
        preset("s9-c1-m1")
    assert preset("s3-c2-m8") == ("standard-v3", 2, 8 * 1024**3)


def test_labels_follow_yandex_rules():
    assert labels_of({"openstack:id": "ABC", "Name": "n"}) == {"openstack-id": "abc"}


def test_instances_are_listed_by_their_host_label_deleted_ones_not(instances):
    api, double = instances
    subnet = _subnet(api, double)

    def launch(name: str, host: str):
        return api.launch(compute.Launch(
            name=name, image_id=double["image_id"], instance_type="s3-c2-m8",
            zone=double["zone"], subnet_id=subnet,
            tags={"openstack:id": name, "openstack:host": host}))

    here = launch("8f0c2a8e-2222-4c2b-9d8e-5f6a7b8c9d0e", "Yandex-Compute")
    launch("8f0c2a8e-3333-4c2b-9d8e-5f6a7b8c9d0e", "other")
    gone = launch("8f0c2a8e-4444-4c2b-9d8e-5f6a7b8c9d0e", "Yandex-Compute")
    api.terminate(gone.id)
    listed = api.tagged("openstack:host", "Yandex-Compute")
    assert [(i.id, i.tags["openstack:id"]) for i in listed] == [
        (here.id, "8f0c2a8e-2222-4c2b-9d8e-5f6a7b8c9d0e")]

