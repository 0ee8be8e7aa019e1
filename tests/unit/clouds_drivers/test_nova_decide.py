"""The compute drivers' decisions over plain data."""

from __future__ import annotations

import base64

import pytest

from clouds_drivers.nova.virt import decide


def test_cloud_image_from_the_properties_images_register_sets():
    meta = {"image_aos_cloud": "aws", "image_aos_cloud_image_id": "ami-1", "image_x": "y"}
    assert decide.cloud_image(meta, "aws", "img") == "ami-1"
    with pytest.raises(decide.Refused, match="is a aws image, this host runs yandex"):
        decide.cloud_image(meta, "yandex", "img")
    with pytest.raises(decide.Refused, match="images register"):
        decide.cloud_image({"image_min_disk": "1"}, "aws", "img")


def test_instance_type_from_the_extra_spec_flavors_register_sets():
    specs = {"aos:cloud": "aws", "aos:cloud_instance_type": "t3.micro"}
    assert decide.instance_type(specs, "aws", "p.t3.micro") == "t3.micro"
    with pytest.raises(decide.Refused, match="flavors register"):
        decide.instance_type({}, "aws", "m1.small")
    with pytest.raises(decide.Refused, match="aws flavor"):
        decide.instance_type(specs, "yandex", "p.t3.micro")


def test_first_port_takes_the_first_ipv4_address():
    vif = {"id": "port-1", "network": {"id": "net-1", "subnets": [
        {"ips": [{"address": "fd00::5", "version": 6}]},
        {"cidr": "10.0.1.0/24", "ips": [{"address": "10.0.1.7", "version": 4}]}]}}
    assert decide.first_port([vif]) == decide.Port("port-1", "net-1", "10.0.1.7",
                                                   "10.0.1.0/24")
    assert decide.first_port([]) is None


def test_port_subnet_matches_the_address():
    fixed = [{"subnet_id": "s6", "ip_address": "fd00::5"},
             {"subnet_id": "s4", "ip_address": "10.0.1.7"}]
    assert decide.port_subnet(fixed, "10.0.1.7") == ("s4", "10.0.1.7")
    assert decide.port_subnet(fixed, "10.9.9.9") is None


def test_user_data_is_decoded_once():
    assert decide.user_data(base64.b64encode(b"#cloud-config\n").decode()) == \
        b"#cloud-config\n"
    assert decide.user_data(None) is None


def test_tags_name_the_server_project_and_host():
    tags = decide.tags("uuid-1", "proj-1", "aws-compute")
    assert tags["openstack:id"] == "uuid-1"
    assert tags["openstack:project"] == "proj-1"
    assert tags["openstack:kind"] == "instance"
    assert tags["openstack:host"] == "aws-compute"


@pytest.mark.parametrize(("mountpoint", "device"), [
    ("/dev/vdf", "/dev/sdf"), ("/dev/sdg", "/dev/sdg"), ("/dev/xvdh", "/dev/sdh")])
def test_aws_device_keeps_the_letter(mountpoint, device):
    assert decide.aws_device(mountpoint) == device


def test_aws_device_refuses_partitions():
    with pytest.raises(decide.Refused):
        decide.aws_device("/dev/sda1")


def test_volume_id_follows_the_cinder_contract():
    info = {"driver_volume_type": "aws_ebs", "data": {"volume_id": "vol-1"}}
    assert decide.volume_id(info, "aws_ebs", "volume_id") == "vol-1"
    with pytest.raises(decide.Refused, match="yandex_disk"):
        decide.volume_id(info, "yandex_disk", "disk_id")


def test_a_vanished_subnet_is_asked_for_again():
    assert decide.is_stale_subnet("InvalidSubnetID.NotFound")
    assert not decide.is_stale_subnet("InvalidInstanceType")
