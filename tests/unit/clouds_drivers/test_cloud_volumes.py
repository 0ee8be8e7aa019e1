"""AwsVolumes against moto and YandexVolumes against the Yandex double, in-process: what the
Cinder drivers' calls leave in each cloud."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from clouds_drivers.providers import aws, yandex
from clouds_drivers.providers.aws_volumes import AwsVolumes
from clouds_drivers.providers.base import Account, CloudError
from clouds_drivers.providers.volumes import VolumeSource
from clouds_drivers.providers.yandex_volumes import YandexVolumes
from tests.unit.clouds.doubles import aws_keys, yandex_double

TAGS = {"openstack:id": "0b9e7c1c-vol", "openstack:project": "p1", "openstack:kind": "volume"}


@pytest.fixture
def aws_volumes():
    with mock_aws():
        yield AwsVolumes(aws.AwsProvider(), Account("aws", "us-east-2b", "us-east-2",
                                                    aws_keys()))


@pytest.fixture(scope="module")
def yandex_cloud(tmp_path_factory):
    with yandex_double(tmp_path_factory.mktemp("ycloud")) as double:
        provider = yandex.YandexProvider(yandex.Settings(
            endpoint=double["endpoint"], root_certificates=double["root_certificates"],
            timeout=10))
        account = Account("yandex", double["zone"], None, {
            "service_account_id": double["service_account_id"], "key_id": double["key_id"],
            "private_key": double["private_key"]}, {"folder_id": double["folder_id"]})
        token = provider.issue_credentials(account).secrets
        yield double, provider, Account("yandex", double["zone"], None, token,
                                        {"folder_id": double["folder_id"]})


@pytest.fixture
def yandex_volumes(yandex_cloud):
    _, provider, account = yandex_cloud
    return YandexVolumes(provider, account)


def test_aws_volume_lifecycle(aws_volumes):
    volume_id = aws_volumes.create("volume-1", 2, TAGS)
    found = aws_volumes.describe(volume_id)
    assert (found.size_gb, found.zone, found.status) == (2, "us-east-2b", "available")
    assert found.tags == {**TAGS, "Name": "volume-1"}
    aws_volumes.extend(volume_id, 5)
    assert aws_volumes.describe(volume_id).size_gb == 5

    snapshot_id = aws_volumes.snapshot(volume_id, "snapshot-1", {**TAGS, "openstack:kind":
                                                                  "snapshot"})
    copy_id = aws_volumes.create("volume-2", 7, TAGS, VolumeSource(snapshot_id=snapshot_id))
    snapshots = aws_volumes.ec2.describe_snapshots(SnapshotIds=[snapshot_id])["Snapshots"]
    assert snapshots[0]["VolumeId"] == volume_id
    assert aws_volumes.describe(copy_id).size_gb == 7

    for _ in range(2):  # a repeated delete finds nothing left to do
        aws_volumes.delete(copy_id)
        aws_volumes.delete_snapshot(snapshot_id)
        aws_volumes.delete(volume_id)
    assert aws_volumes.describe(volume_id) is None
    assert aws_volumes.ec2.describe_snapshots(Filters=[
        {"Name": "tag:openstack:project", "Values": ["p1"]}])["Snapshots"] == []


def test_aws_volume_from_an_ami_uses_its_root_snapshot(aws_volumes):
    ec2 = boto3.client("ec2", region_name="us-east-2")
    image = ec2.describe_images(Filters=[{"Name": "root-device-type",
                                          "Values": ["ebs"]}])["Images"][0]
    root = next(m for m in image["BlockDeviceMappings"]
                if m["DeviceName"] == image["RootDeviceName"])
    volume_id = aws_volumes.create("boot", 10, TAGS, VolumeSource(image_id=image["ImageId"]))
    volume = ec2.describe_volumes(VolumeIds=[volume_id])["Volumes"][0]
    assert volume["SnapshotId"] == root["Ebs"]["SnapshotId"]


def test_aws_errors_are_one_line_with_the_code(aws_volumes):
    with pytest.raises(CloudError) as missing:
        aws_volumes.extend("vol-0123456789abcdef0", 3)
    assert "InvalidVolume.NotFound" in str(missing.value)
    assert "\n" not in str(missing.value)
    with pytest.raises(CloudError) as bad_image:
        aws_volumes.create("boot", 10, TAGS, VolumeSource(image_id="ami-00000000000000000"))
    assert "ami-00000000000000000" in str(bad_image.value)
    assert aws_volumes.ec2.describe_volumes()["Volumes"] == []


def test_yandex_disk_lifecycle(yandex_volumes):
    disk_id = yandex_volumes.create("volume-1", 2, TAGS)
    found = yandex_volumes.describe(disk_id)
    assert (found.size_gb, found.zone, found.status) == (2, "ru-central1-a", "ready")
    assert found.tags == TAGS
    yandex_volumes.extend(disk_id, 4)
    assert yandex_volumes.describe(disk_id).size_gb == 4

    snapshot_id = yandex_volumes.snapshot(disk_id, "snapshot-1", TAGS)
    copy_id = yandex_volumes.create("volume-2", 6, TAGS, VolumeSource(snapshot_id=snapshot_id))
    assert yandex_volumes.describe(copy_id).size_gb == 6

    for _ in range(2):
        yandex_volumes.delete(copy_id)
        yandex_volumes.delete_snapshot(snapshot_id)
        yandex_volumes.delete(disk_id)
    assert yandex_volumes.describe(disk_id) is None


def test_yandex_disk_from_an_image_and_errors(yandex_cloud, yandex_volumes):
    double = yandex_cloud[0]
    disk_id = yandex_volumes.create("boot", 10, TAGS, VolumeSource(image_id=double["image_id"]))
    try:
        with pytest.raises(CloudError) as shrink:
            yandex_volumes.extend(disk_id, 1)
        assert "INVALID_ARGUMENT" in str(shrink.value)
        with pytest.raises(CloudError) as taken:
            yandex_volumes.create("boot", 10, TAGS)
        assert "ALREADY_EXISTS" in str(taken.value)
    finally:
        yandex_volumes.delete(disk_id)
