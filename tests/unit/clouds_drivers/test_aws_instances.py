"""AwsInstances against moto in-process: what EC2Driver's operations do in EC2."""

from __future__ import annotations

import pytest
from moto import mock_aws

from clouds_drivers.providers import compute
from clouds_drivers.providers.aws import AwsProvider
from clouds_drivers.providers.aws_instances import AwsInstances, Waits, root_volume_mapping
from clouds_drivers.providers.base import Account, CloudError

PUBLIC_KEY = ("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDOv6C6ZLyCz8nz9mKRa5mcbAnrVmsldAVPcmg+"
              "nhNdFpRShz7CnNMN4kI5y1IUvq0T3Z5M0TTcHOXY7Ow0cEqdEHVBoMXCIawaBAqZRyaWjnl4lmEJ"
              "NoAGP2kgsZ9j/qXwOHFLcAYI2CF1CHO5JYjmwCWj9dlXThhcXzATaBJ6v8UC3ptddl5ycuyrf8Rg"
              "rLoiLdqkDGnCWEBbHsj8uJozzTYGiPHwoI2NnBnDCDuz8Z+fzEmsnIeV/JO5HzkozL8HNPVsm2Wc"
              "DQ5I7fnR+/e8/fMmE73KSMY4xNHeCDtoq5ezBk2aDzdgkL1bRaA1eF1wsMCLOzmKgmHK6nSB+Xhj"
              " test")


@pytest.fixture
def ec2():
    with mock_aws():
        account = Account("aws", "us-east-2a", "us-east-2",
                          {"access_key": "AKIAIOSFODNN7EXAMPLE", "secret_key": "x"})
        yield AwsInstances(AwsProvider(), account, Waits(delay=0, attempts=3))


def _subnet(api: AwsInstances) -> str:
    vpc = api.ec2.create_vpc(CidrBlock="10.7.0.0/16")["Vpc"]["VpcId"]
    return api.ec2.create_subnet(VpcId=vpc, CidrBlock="10.7.1.0/24",
                                 AvailabilityZone="us-east-2a")["Subnet"]["SubnetId"]


def _image(api: AwsInstances) -> str:
    return api.ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]


def test_launch_with_port_address_key_and_tags_then_terminate_leaves_nothing(ec2):
    subnet = _subnet(ec2)
    spec = compute.Launch(name="uuid-1", image_id=_image(ec2), instance_type="t3.micro",
                          zone="us-east-2a", subnet_id=subnet, private_ip="10.7.1.23",
                          public_key=PUBLIC_KEY, user_data=b"#!/bin/sh\necho hi\n",
                          tags={"openstack:id": "uuid-1"})
    made = ec2.launch(spec)
    assert made.state == compute.RUNNING
    assert made.private_ip == "10.7.1.23"
    assert made.tags["openstack:id"] == "uuid-1"
    described = ec2.ec2.describe_instances(InstanceIds=[made.id])["Reservations"][0][
        "Instances"][0]
    assert described["SubnetId"] == subnet
    assert described["KeyName"] == "openstack-uuid-1"

    ec2.stop(made.id)
    assert ec2.find(made.id).state == compute.STOPPED
    ec2.start(made.id)
    assert ec2.find(made.id).state == compute.RUNNING
    ec2.reboot(made.id)
    assert isinstance(ec2.console_output(made.id), str)

    ec2.terminate(made.id)
    assert ec2.find(made.id) is None
    assert ec2.ec2.describe_key_pairs()["KeyPairs"] == []
    ec2.terminate(made.id)  # already gone: not an error


def test_the_root_volume_is_the_flavors_root_disk_or_the_images_own_size_if_larger(ec2):
    spec = compute.Launch(name="uuid-3", image_id=_image(ec2), instance_type="t3.micro",
                          zone="us-east-2a", root_disk_gb=30)
    made = ec2.launch(spec)
    described = ec2.ec2.describe_instances(InstanceIds=[made.id])["Reservations"][0][
        "Instances"][0]
    root = next(m for m in described["BlockDeviceMappings"]
                if m["DeviceName"] == described["RootDeviceName"])
    (volume,) = ec2.ec2.describe_volumes(VolumeIds=[root["Ebs"]["VolumeId"]])["Volumes"]
    assert volume["Size"] == 30
    ec2.terminate(made.id)

    image = {"RootDeviceName": "/dev/sda1", "BlockDeviceMappings": [
        {"DeviceName": "/dev/sdb", "Ebs": {"VolumeSize": 500}},
        {"DeviceName": "/dev/sda1", "Ebs": {"VolumeSize": 40}}]}
    assert root_volume_mapping(image, 30) == {
        "DeviceName": "/dev/sda1", "Ebs": {"VolumeSize": 40, "DeleteOnTermination": True}}
    assert root_volume_mapping(image, 50)["Ebs"]["VolumeSize"] == 50


def test_unknown_instance_type_is_a_cloud_error_with_the_clouds_words(ec2, monkeypatch):
    monkeypatch.setattr("moto.settings.EC2_ENABLE_INSTANCE_TYPE_VALIDATION", True)
    spec = compute.Launch(name="uuid-2", image_id=_image(ec2), instance_type="t3.nosuch",
                          zone="us-east-2a", public_key=PUBLIC_KEY)
    with pytest.raises(CloudError) as caught:
        ec2.launch(spec)
    assert "t3.nosuch" in str(caught.value)
    assert "\n" not in str(caught.value)
    # the key pair made for it is gone again
    assert ec2.ec2.describe_key_pairs()["KeyPairs"] == []


def test_snapshot_image_and_volume_attach_detach(ec2):
    made = ec2.launch(compute.Launch(name="uuid-3", image_id=_image(ec2),
                                     instance_type="t3.micro", zone="us-east-2a"))
    image = ec2.create_image(made.id, "snap-of-uuid-3", {"openstack:id": "img-1"})
    assert ec2.ec2.describe_images(ImageIds=[image])["Images"][0]["State"] == "available"

    volume = ec2.ec2.create_volume(Size=1, AvailabilityZone="us-east-2a")["VolumeId"]
    ec2.attach_volume(made.id, volume, "/dev/sdf")
    attached = ec2.ec2.describe_volumes(VolumeIds=[volume])["Volumes"][0]["Attachments"]
    assert [(a["InstanceId"], a["Device"]) for a in attached] == [(made.id, "/dev/sdf")]
    ec2.detach_volume(made.id, volume, "/dev/sdf")
    assert ec2.ec2.describe_volumes(VolumeIds=[volume])["Volumes"][0]["Attachments"] == []


def test_find_of_an_unknown_instance_is_none(ec2):
    assert ec2.find("i-0123456789abcdef0") is None


def test_instances_are_listed_by_their_host_tag_terminated_ones_not(ec2):
    def launch(name: str, host: str):
        return ec2.launch(compute.Launch(
            name=name, image_id=_image(ec2), instance_type="t3.micro", zone="us-east-2a",
            tags={"openstack:id": name, "openstack:host": host}))

    here, there, gone = launch("uuid-h1", "aws-compute"), launch("uuid-o1", "other"), \
        launch("uuid-h2", "aws-compute")
    ec2.terminate(gone.id)
    listed = ec2.tagged("openstack:host", "aws-compute")
    assert [(i.id, i.tags["openstack:id"]) for i in listed] == [(here.id, "uuid-h1")]
    assert [i.id for i in ec2.tagged("openstack:host", "other")] == [there.id]
    assert ec2.tagged("openstack:host", "nowhere") == []


def _calls(api: AwsInstances) -> list[str]:
    """The EC2 operations ``api`` sends from now on, in order."""
    sent: list[str] = []
    api.ec2.meta.events.register("before-call.ec2.*",
                                 lambda model, **kw: sent.append(model.name))
    return sent


def test_a_launch_costs_one_describe_and_the_images_mapping_is_read_once(ec2):
    image = _image(ec2)
    sent = _calls(ec2)
    first = ec2.launch(compute.Launch(name="uuid-6", image_id=image, instance_type="t3.micro",
                                      zone="us-east-2a", root_disk_gb=8))
    assert first.state == compute.RUNNING
    assert sent == ["DescribeImages", "RunInstances", "DescribeInstances"]
    sent.clear()
    ec2.launch(compute.Launch(name="uuid-7", image_id=image, instance_type="t3.micro",
                              zone="us-east-2a", root_disk_gb=8))
    assert sent == ["RunInstances", "DescribeInstances"]


def test_an_instance_that_never_runs_is_terminated_with_a_clear_error(ec2, monkeypatch):
    stuck = compute.CloudInstance(id="i-x", state=compute.PENDING, private_ip=None, tags={})
    real = ec2._describe
    monkeypatch.setattr(ec2, "_describe", lambda instance_id: stuck)
    with pytest.raises(CloudError, match=r"to run: still pending after 3 polls 0s apart"):
        ec2.launch(compute.Launch(name="uuid-8", image_id=_image(ec2),
                                  instance_type="t3.micro", zone="us-east-2a"))
    monkeypatch.setattr(ec2, "_describe", real)
    left = ec2.ec2.describe_instances(Filters=[{"Name": "instance-state-name",
                                                "Values": ["pending", "running"]}])
    assert left["Reservations"] == []


def test_launch_names_the_instance_to_started_before_it_runs(ec2):
    """The driver records the id while the instance boots: it must get it before the wait."""
    image = _image(ec2)
    sent = _calls(ec2)
    seen = []

    def started(instance_id: str) -> None:
        seen.append((instance_id, list(sent)))

    made = ec2.launch(compute.Launch(name="uuid-9", image_id=image,
                                     instance_type="t3.micro", zone="us-east-2a"),
                      started=started)
    assert made.state == compute.RUNNING
    assert seen == [(made.id, ["RunInstances"])]  # the wait's DescribeInstances came after


def test_a_launch_whose_started_fails_is_terminated(ec2):
    def started(instance_id: str) -> None:
        raise RuntimeError("cannot record")

    with pytest.raises(RuntimeError, match="cannot record"):
        ec2.launch(compute.Launch(name="uuid-10", image_id=_image(ec2),
                                  instance_type="t3.micro", zone="us-east-2a"), started=started)
    left = ec2.ec2.describe_instances(Filters=[{"Name": "instance-state-name",
                                                "Values": ["pending", "running"]}])
    assert left["Reservations"] == []
