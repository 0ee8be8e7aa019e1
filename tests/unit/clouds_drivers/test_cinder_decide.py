"""The Cinder drivers' and CloudBackendsFilter's decisions, over plain data."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from clouds_drivers.cinder import decide
from clouds_drivers.tags import openstack_tags


@pytest.mark.parametrize(("project", "backend", "allowed"), [
    ("aws", "aws", True),
    ("aws", "yandex", False),
    ("aws", None, False),       # an ordinary backend never takes a cloud project's volume
    ("yandex", "yandex", True),
    (None, "aws", False),       # a project without a cloud never reaches a cloud backend
    (None, None, True),
])
def test_backend_allowed(project, backend, allowed):
    assert decide.backend_allowed(project, backend) is allowed


def test_project_of_prefers_the_volume_owner_to_the_caller():
    admin = SimpleNamespace(project_id="admin-project")
    spec = {"volume_properties": {"project_id": "owner"}}
    assert decide.project_of({"request_spec": spec, "context": admin}) == "owner"
    assert decide.project_of({"request_spec": {}, "context": admin}) == "admin-project"
    assert decide.project_of({}) is None


def test_stats_name_the_cloud_and_report_no_capacity_limit():
    stats = decide.stats("ebs", "aws")
    assert stats[decide.CLOUD_CAPABILITY] == "aws"
    assert stats["volume_backend_name"] == "ebs"
    assert stats["total_capacity_gb"] == stats["free_capacity_gb"] == "infinite"
    assert stats["storage_protocol"] == "aws_ebs"
    assert decide.stats("yandex", "yandex")["vendor_name"] == "Yandex.Cloud"


def test_connection_info_is_the_compute_drivers_contract():
    assert decide.connection_info("aws", "vol-1") == {
        "driver_volume_type": "aws_ebs", "data": {"volume_id": "vol-1"}}
    assert decide.connection_info("yandex", "fhm1") == {
        "driver_volume_type": "yandex_disk", "data": {"disk_id": "fhm1"}}


def test_cloud_image_reads_the_registered_properties():
    mine = {"id": "img", "properties": {"aos_cloud": "aws", "aos_cloud_image_id": "ami-1"}}
    assert decide.cloud_image(mine, "aws") == "ami-1"
    assert decide.cloud_image({"id": "img", "properties": {}}, "aws") is None
    with pytest.raises(decide.Refused, match="is a AWS image; this backend's volumes live in "
                                             "Yandex.Cloud"):
        decide.cloud_image(mine, "yandex")


def test_names_tags_and_messages():
    assert decide.cloud_name("volume", "0B9E-1") == "volume-0b9e-1"
    assert openstack_tags("snapshot", "s1", "p1") == {
        "openstack:id": "s1", "openstack:kind": "snapshot", "openstack:project": "p1"}
    assert "has no cloud account" in decide.not_bound("p1", "aws", None)
    assert "is bound to Yandex.Cloud" in decide.not_bound("p1", "aws", "yandex")
    line = decide.one_line("a\nb  c" + "x" * 300, limit=20)
    assert "\n" not in line and len(line) == 20
