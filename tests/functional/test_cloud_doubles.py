"""Functional tests of the public-cloud doubles (tools/aos_sandbox/doubles).

boto3 talks to the moto-based AWS double and the unmodified `yandexcloud` SDK to the gRPC
Yandex double, exactly as the hybrid-cloud module will.  No OpenStack sandbox is needed.

The doubles run from $AOS_SANDBOX_DIR when it is set (servers already up there are reused and
left running); otherwise from a private state dir under the system temp dir, on free ports, so
a running sandbox is not disturbed.  The first run builds the doubles venv (about a minute).
"""

from __future__ import annotations

import json
import os
import socket
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))

from aos_sandbox.doubles import install, start, status, stop  # noqa: E402

boto3 = pytest.importorskip("boto3")
yandexcloud = pytest.importorskip("yandexcloud")
grpc = pytest.importorskip("grpc")

from botocore.exceptions import ClientError  # noqa: E402
from yandex.cloud.compute.v1 import (  # noqa: E402
    disk_pb2,
    disk_service_pb2,
    image_pb2,
    image_service_pb2,
    instance_pb2,
)
from yandex.cloud.compute.v1 import instance_service_pb2 as isvc  # noqa: E402
from yandex.cloud.compute.v1.disk_service_pb2_grpc import DiskServiceStub  # noqa: E402
from yandex.cloud.compute.v1.image_service_pb2_grpc import ImageServiceStub  # noqa: E402
from yandex.cloud.compute.v1.instance_service_pb2_grpc import InstanceServiceStub  # noqa: E402
from yandex.cloud.vpc.v1 import network_pb2, network_service_pb2, subnet_pb2, subnet_service_pb2  # noqa: E402
from yandex.cloud.vpc.v1.network_service_pb2_grpc import NetworkServiceStub  # noqa: E402
from yandex.cloud.vpc.v1.subnet_service_pb2_grpc import SubnetServiceStub  # noqa: E402

pytestmark = [
    pytest.mark.functional,
    # The SDK's own operation waiter uses its deprecated RetryInterceptor.
    pytest.mark.filterwarnings("ignore:Call to deprecated class RetryInterceptor"),
]
GIB = 1024**3


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def doubles() -> Iterator[dict[str, Any]]:
    shared = os.environ.get("AOS_SANDBOX_DIR")
    state_dir = Path(shared) if shared else Path(tempfile.gettempdir()) / "aos-doubles-test"
    saved = {k: os.environ.get(k) for k in ("AOS_DOUBLES_AWS_PORT", "AOS_DOUBLES_YANDEX_PORT")}
    if not shared:
        for key in saved:
            os.environ.setdefault(key, str(_free_port()))
    install(state_dir)
    already_up = all(s["up"] for s in status(state_dir).values())
    try:
        yield start(state_dir)
    finally:
        if not already_up:
            stop(state_dir)
            assert not any(s["pid"] for s in status(state_dir).values())
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


# --- AWS ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def aws(doubles: dict[str, Any]) -> dict[str, Any]:
    cfg = doubles["aws"]
    kwargs = dict(
        endpoint_url=cfg["endpoint_url"],
        region_name=cfg["region"],
        aws_access_key_id=cfg["access_key"],
        aws_secret_access_key=cfg["secret_key"],
    )
    return {
        "ec2": boto3.client("ec2", **kwargs),
        "s3": boto3.client("s3", **kwargs),
        "region": cfg["region"],
    }


@pytest.fixture(scope="module")
def ami(aws: dict[str, Any]) -> str:
    images = aws["ec2"].describe_images(Filters=[{"Name": "architecture", "Values": ["x86_64"]}])[
        "Images"
    ]
    assert images, "moto should preload AMIs"
    return images[0]["ImageId"]


def _run_instance(ec2: Any, image_id: str) -> str:
    reservation = ec2.run_instances(
        ImageId=image_id, InstanceType="t3.micro", MinCount=1, MaxCount=1
    )
    return reservation["Instances"][0]["InstanceId"]


def _state(ec2: Any, instance_id: str) -> str:
    reservations = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"]
    return reservations[0]["Instances"][0]["State"]["Name"]


def test_aws_instance_run_stop_terminate(aws: dict[str, Any], ami: str) -> None:
    ec2 = aws["ec2"]
    instance_id = _run_instance(ec2, ami)
    assert _state(ec2, instance_id) == "running"
    ec2.stop_instances(InstanceIds=[instance_id])
    assert _state(ec2, instance_id) == "stopped"
    ec2.start_instances(InstanceIds=[instance_id])
    assert _state(ec2, instance_id) == "running"
    ec2.terminate_instances(InstanceIds=[instance_id])
    assert _state(ec2, instance_id) == "terminated"


def test_aws_rejects_unknown_ami_and_type(aws: dict[str, Any], ami: str) -> None:
    ec2 = aws["ec2"]
    with pytest.raises(ClientError) as bad_ami:
        _run_instance(ec2, "ami-0123456789abcdef0")
    assert bad_ami.value.response["Error"]["Code"] == "InvalidAMIID.NotFound"
    with pytest.raises(ClientError) as bad_type:
        ec2.run_instances(ImageId=ami, InstanceType="t3.galactic", MinCount=1, MaxCount=1)
    assert bad_type.value.response["Error"]["Code"] == "InvalidInstanceType.NotFound"


def test_aws_volume_attach_detach(aws: dict[str, Any], ami: str) -> None:
    ec2 = aws["ec2"]
    instance_id = _run_instance(ec2, ami)
    zone = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0][
        "Placement"
    ]["AvailabilityZone"]
    volume_id = ec2.create_volume(AvailabilityZone=zone, Size=8, VolumeType="gp3")["VolumeId"]
    ec2.attach_volume(VolumeId=volume_id, InstanceId=instance_id, Device="/dev/sdf")
    volume = ec2.describe_volumes(VolumeIds=[volume_id])["Volumes"][0]
    assert volume["State"] == "in-use"
    assert volume["Attachments"][0]["InstanceId"] == instance_id
    # moto crashes on DetachVolume with only VolumeId: always name the instance and device.
    ec2.detach_volume(VolumeId=volume_id, InstanceId=instance_id, Device="/dev/sdf")
    assert ec2.describe_volumes(VolumeIds=[volume_id])["Volumes"][0]["State"] == "available"
    ec2.delete_volume(VolumeId=volume_id)
    with pytest.raises(ClientError):
        ec2.describe_volumes(VolumeIds=[volume_id])
    ec2.terminate_instances(InstanceIds=[instance_id])


def test_aws_vpc_subnet_internet_gateway(aws: dict[str, Any]) -> None:
    ec2 = aws["ec2"]
    vpc_id = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(
        VpcId=vpc_id, CidrBlock="10.42.1.0/24", AvailabilityZone=aws["region"] + "a"
    )
    igw_id = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw_id, VpcId=vpc_id)
    igw = ec2.describe_internet_gateways(InternetGatewayIds=[igw_id])["InternetGateways"][0]
    assert igw["Attachments"][0]["VpcId"] == vpc_id
    assert subnet["Subnet"]["VpcId"] == vpc_id
    ec2.detach_internet_gateway(InternetGatewayId=igw_id, VpcId=vpc_id)
    ec2.delete_internet_gateway(InternetGatewayId=igw_id)
    ec2.delete_subnet(SubnetId=subnet["Subnet"]["SubnetId"])
    ec2.delete_vpc(VpcId=vpc_id)


def test_aws_import_image_from_s3(aws: dict[str, Any]) -> None:
    ec2, s3 = aws["ec2"], aws["s3"]
    bucket = _unique("aos-images")
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": aws["region"]})
    s3.put_object(Bucket=bucket, Key="uploads/disk.vmdk", Body=b"\0" * 4096)

    task = ec2.import_image(
        Description="aos test import",
        DiskContainers=[
            {"Format": "vmdk", "UserBucket": {"S3Bucket": bucket, "S3Key": "uploads/disk.vmdk"}}
        ],
    )
    assert task["ImportTaskId"].startswith("import-ami-")
    described = ec2.describe_import_image_tasks(ImportTaskIds=[task["ImportTaskId"]])[
        "ImportImageTasks"
    ][0]
    assert described["Status"] == "completed"
    image_id = described["ImageId"]
    image = ec2.describe_images(ImageIds=[image_id])["Images"][0]
    assert image["State"] == "available"
    # The imported AMI passes moto's AMI validation like any registered image.
    ec2.terminate_instances(InstanceIds=[_run_instance(ec2, image_id)])

    with pytest.raises(ClientError) as missing:
        ec2.import_image(
            DiskContainers=[
                {"Format": "vmdk", "UserBucket": {"S3Bucket": bucket, "S3Key": "nope.vmdk"}}
            ]
        )
    assert missing.value.response["Error"]["Code"] == "InvalidParameter"
    assert "nope.vmdk" in missing.value.response["Error"]["Message"]


# --- Yandex.Cloud ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def yc(doubles: dict[str, Any]) -> dict[str, Any]:
    cfg = doubles["yandex"]
    sdk = yandexcloud.SDK(
        service_account_key=json.loads(Path(cfg["service_account_key_file"]).read_text()),
        endpoint=cfg["endpoint"],
        root_certificates=Path(cfg["root_certificates_file"]).read_bytes(),
    )
    return {
        "sdk": sdk,
        "folder_id": cfg["folder_id"],
        "zone": cfg["zone"],
        "endpoint": cfg["endpoint"],
        "cfg": cfg,
    }


def _wait(sdk: Any, operation: Any, response_type: Any = None, meta_type: Any = None) -> Any:
    return sdk.wait_operation_and_get_result(
        operation, response_type=response_type, meta_type=meta_type, timeout=30
    )


def _network_and_subnet(yc: dict[str, Any], cidr: str) -> tuple[str, subnet_pb2.Subnet]:
    sdk = yc["sdk"]
    network = _wait(
        sdk,
        sdk.client(NetworkServiceStub).Create(
            network_service_pb2.CreateNetworkRequest(folder_id=yc["folder_id"], name=_unique("net"))
        ),
        network_pb2.Network,
        network_service_pb2.CreateNetworkMetadata,
    )
    assert network.meta.network_id == network.response.id
    subnet = _wait(
        sdk,
        sdk.client(SubnetServiceStub).Create(
            subnet_service_pb2.CreateSubnetRequest(
                folder_id=yc["folder_id"],
                name=_unique("subnet"),
                network_id=network.response.id,
                zone_id=yc["zone"],
                v4_cidr_blocks=[cidr],
            )
        ),
        subnet_pb2.Subnet,
    ).response
    return network.response.id, subnet


def _image_from_storage(yc: dict[str, Any]) -> image_pb2.Image:
    sdk = yc["sdk"]
    request = image_service_pb2.CreateImageRequest(
        folder_id=yc["folder_id"],
        name=_unique("img"),
        uri="https://storage.yandexcloud.net/aos-images/disk.qcow2",
        min_disk_size=5 * GIB,
        os=image_pb2.Os(type=image_pb2.Os.LINUX),
    )
    return _wait(sdk, sdk.client(ImageServiceStub).Create(request), image_pb2.Image).response


def _instance_request(
    yc: dict[str, Any], name: str, subnet_id: str, image_id: str
) -> isvc.CreateInstanceRequest:
    return isvc.CreateInstanceRequest(
        folder_id=yc["folder_id"],
        name=name,
        zone_id=yc["zone"],
        platform_id="standard-v3",
        resources_spec=isvc.ResourcesSpec(cores=2, memory=2 * GIB, core_fraction=100),
        metadata={"user-data": "#cloud-config\n"},
        boot_disk_spec=isvc.AttachedDiskSpec(
            auto_delete=True,
            disk_spec=isvc.AttachedDiskSpec.DiskSpec(image_id=image_id, size=10 * GIB),
        ),
        network_interface_specs=[
            isvc.NetworkInterfaceSpec(
                subnet_id=subnet_id,
                primary_v4_address_spec=isvc.PrimaryAddressSpec(
                    one_to_one_nat_spec=isvc.OneToOneNatSpec(ip_version=instance_pb2.IPV4)
                ),
            )
        ],
    )


def test_yandex_instance_lifecycle(yc: dict[str, Any]) -> None:
    sdk = yc["sdk"]
    network_id, subnet = _network_and_subnet(yc, "10.77.0.0/24")
    image = _image_from_storage(yc)
    instances = sdk.client(InstanceServiceStub)
    name = _unique("vm")

    created = _wait(
        sdk,
        instances.Create(_instance_request(yc, name, subnet.id, image.id)),
        instance_pb2.Instance,
        isvc.CreateInstanceMetadata,
    )
    vm = created.response
    assert created.meta.instance_id == vm.id
    assert vm.status == instance_pb2.Instance.RUNNING
    address = vm.network_interfaces[0].primary_v4_address
    assert address.address.startswith("10.77.0.")
    assert address.one_to_one_nat.address
    listed = instances.List(
        isvc.ListInstancesRequest(folder_id=yc["folder_id"], filter=f'name="{name}"')
    )
    assert [i.id for i in listed.instances] == [vm.id]

    _wait(sdk, instances.Stop(isvc.StopInstanceRequest(instance_id=vm.id)))
    assert (
        instances.Get(isvc.GetInstanceRequest(instance_id=vm.id)).status
        == instance_pb2.Instance.STOPPED
    )
    started = _wait(
        sdk, instances.Start(isvc.StartInstanceRequest(instance_id=vm.id)), instance_pb2.Instance
    )
    assert started.response.status == instance_pb2.Instance.RUNNING
    _wait(sdk, instances.Restart(isvc.RestartInstanceRequest(instance_id=vm.id)))

    disks = sdk.client(DiskServiceStub)
    data_disk = _wait(
        sdk,
        disks.Create(
            disk_service_pb2.CreateDiskRequest(
                folder_id=yc["folder_id"], name=_unique("data"), zone_id=yc["zone"], size=GIB
            )
        ),
        disk_pb2.Disk,
    ).response
    attach = isvc.AttachInstanceDiskRequest(
        instance_id=vm.id,
        attached_disk_spec=isvc.AttachedDiskSpec(disk_id=data_disk.id, device_name="data"),
    )
    _wait(sdk, instances.AttachDisk(attach), instance_pb2.Instance)
    with pytest.raises(grpc.RpcError) as attached:
        disks.Delete(disk_service_pb2.DeleteDiskRequest(disk_id=data_disk.id))
    assert attached.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    detached = _wait(
        sdk,
        instances.DetachDisk(isvc.DetachInstanceDiskRequest(instance_id=vm.id, device_name="data")),
        instance_pb2.Instance,
    )
    assert not detached.response.secondary_disks
    _wait(sdk, disks.Delete(disk_service_pb2.DeleteDiskRequest(disk_id=data_disk.id)))

    _wait(sdk, instances.Delete(isvc.DeleteInstanceRequest(instance_id=vm.id)))
    with pytest.raises(grpc.RpcError) as gone:
        disks.Get(disk_service_pb2.GetDiskRequest(disk_id=vm.boot_disk.disk_id))
    assert gone.value.code() == grpc.StatusCode.NOT_FOUND  # auto_delete boot disk went with it
    _wait(
        sdk,
        sdk.client(SubnetServiceStub).Delete(
            subnet_service_pb2.DeleteSubnetRequest(subnet_id=subnet.id)
        ),
    )
    _wait(
        sdk,
        sdk.client(NetworkServiceStub).Delete(
            network_service_pb2.DeleteNetworkRequest(network_id=network_id)
        ),
    )


def test_yandex_errors(yc: dict[str, Any]) -> None:
    sdk = yc["sdk"]
    instances = sdk.client(InstanceServiceStub)
    with pytest.raises(grpc.RpcError) as missing:
        instances.Get(isvc.GetInstanceRequest(instance_id="fhm00000000000000000"))
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND
    assert "fhm00000000000000000" in missing.value.details()

    with pytest.raises(grpc.RpcError) as folder:
        instances.List(isvc.ListInstancesRequest(folder_id="b1gnosuchfolder00000"))
    assert folder.value.code() == grpc.StatusCode.NOT_FOUND

    network_id, subnet = _network_and_subnet(yc, "10.78.0.0/24")
    with pytest.raises(grpc.RpcError) as busy:
        sdk.client(NetworkServiceStub).Delete(
            network_service_pb2.DeleteNetworkRequest(network_id=network_id)
        )
    assert busy.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    request = _instance_request(yc, _unique("vm"), subnet.id, "fd8nosuchimage000000")
    with pytest.raises(grpc.RpcError) as no_image:
        instances.Create(request)
    assert no_image.value.code() == grpc.StatusCode.NOT_FOUND
    _wait(
        sdk,
        sdk.client(SubnetServiceStub).Delete(
            subnet_service_pb2.DeleteSubnetRequest(subnet_id=subnet.id)
        ),
    )


def test_yandex_rejects_unknown_token(yc: dict[str, Any]) -> None:
    stranger = yandexcloud.SDK(
        iam_token="t1.not-issued-here",
        endpoint=yc["endpoint"],
        root_certificates=Path(yc["cfg"]["root_certificates_file"]).read_bytes(),
    )
    with pytest.raises(grpc.RpcError) as denied:
        stranger.client(InstanceServiceStub).List(
            isvc.ListInstancesRequest(folder_id=yc["folder_id"])
        )
    assert denied.value.code() == grpc.StatusCode.UNAUTHENTICATED
