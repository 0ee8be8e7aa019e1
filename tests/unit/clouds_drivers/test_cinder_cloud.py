"""The Cinder drivers' edge (clouds_drivers.cinder.cloud) against moto and the Yandex double,
with a Clouds API adapter standing in for the service: which project's account is used, what
is mapped, and that nothing is left in the cloud when the map refuses."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws
from oslo_config import cfg

from clouds_drivers import service_conf
from clouds_drivers.cinder import decide
from clouds_drivers.cinder.cloud import NotBound, VolumeCloud
from clouds_drivers.clouds_api import CloudsUnavailable, ProjectCloud
from clouds_drivers.providers import yandex
from clouds_drivers.providers.base import Account, CloudError
from clouds_drivers.tags import openstack_tags
from tests.unit.clouds.doubles import aws_keys, yandex_double


class MapAdapter:
    """The Clouds API's answers for the drivers: accounts by project, and the resource map."""

    def __init__(self, projects: dict[str, ProjectCloud]) -> None:
        self.projects = projects
        self.map: dict[tuple[str, str, str], str] = {}
        self.refuse = False

    def project_cloud(self, project_id: str) -> ProjectCloud | None:
        return self.projects.get(project_id)

    def record(self, project_id, kind, openstack_id, cloud_id, data=None) -> None:
        if self.refuse:
            raise CloudsUnavailable("recording: the Clouds API answered 503: down")
        self.map[(project_id, kind, openstack_id)] = cloud_id

    def lookup(self, project_id, kind, openstack_id):
        found = self.map.get((project_id, kind, openstack_id))
        return {"cloud_resource_id": found} if found else None

    def forget(self, project_id, kind, openstack_id) -> None:
        self.map.pop((project_id, kind, openstack_id), None)


def _conf(**groups) -> cfg.ConfigOpts:
    conf = cfg.ConfigOpts()
    service_conf.register_opts(conf)
    conf([], project="cinder")
    for group, values in groups.items():
        for key, value in values.items():
            conf.set_override(key, value, group=group)
    return conf


@pytest.fixture
def aws_edge():
    with mock_aws():
        keys = aws_keys()
        clouds = MapAdapter({
            "p-aws": ProjectCloud("p-aws", "aws", "us-east-2", "us-east-2c", keys),
            "p-yc": ProjectCloud("p-yc", "yandex", None, "ru-central1-a", {"iam_token": "t"}),
        })
        yield VolumeCloud(_conf(), "aws", clouds), clouds, boto3.client("ec2", "us-east-2")


def test_volume_in_the_projects_zone_tagged_and_mapped(aws_edge):
    edge, clouds, ec2 = aws_edge
    project = edge.project("p-aws")
    volumes = edge.volumes(project)
    cloud_id = volumes.create(decide.cloud_name("volume", "v1"), 3,
                              openstack_tags("volume", "v1", "p-aws"))
    edge.record(project, "volume", "v1", cloud_id, undo=lambda: volumes.delete(cloud_id))
    found = ec2.describe_volumes(VolumeIds=[cloud_id])["Volumes"][0]
    assert (found["AvailabilityZone"], found["Size"]) == ("us-east-2c", 3)
    assert edge.mapped("p-aws", "volume", "v1") == cloud_id
    edge.forget("p-aws", "volume", "v1")
    assert edge.mapped("p-aws", "volume", "v1") is None


def test_a_refused_record_leaves_nothing_in_the_cloud(aws_edge):
    edge, clouds, ec2 = aws_edge
    project = edge.project("p-aws")
    volumes = edge.volumes(project)
    cloud_id = volumes.create("volume-v2", 1, {})
    clouds.refuse = True
    with pytest.raises(CloudsUnavailable):
        edge.record(project, "volume", "v2", cloud_id, undo=lambda: volumes.delete(cloud_id))
    assert ec2.describe_volumes(Filters=[{"Name": "volume-id", "Values": [cloud_id]}]
                                )["Volumes"] == []


def test_projects_of_other_clouds_or_none_are_not_bound(aws_edge):
    edge = aws_edge[0]
    with pytest.raises(NotBound, match="is bound to Yandex.Cloud"):
        edge.project("p-yc")
    with pytest.raises(NotBound, match="has no cloud account"):
        edge.project("p-none")


def test_yandex_volumes_use_the_folder_and_the_short_lived_token(tmp_path):
    with yandex_double(tmp_path) as double:
        account = Account("yandex", double["zone"], None, {
            "service_account_id": double["service_account_id"], "key_id": double["key_id"],
            "private_key": double["private_key"]})
        provider = yandex.YandexProvider(yandex.Settings(
            endpoint=double["endpoint"], root_certificates=double["root_certificates"]))
        token = provider.issue_credentials(account).secrets
        clouds = MapAdapter({"p-yc": ProjectCloud("p-yc", "yandex", None, double["zone"], token,
                                                  {"folder_id": double["folder_id"]})})
        edge = VolumeCloud(_conf(yandex={"endpoint": double["endpoint"],
                                         "root_certificates_file": str(double["ca_file"])}),
                           "yandex", clouds)
        volumes = edge.volumes(edge.project("p-yc"))
        disk_id = volumes.create("volume-v1", 2, openstack_tags("volume", "v1", "p-yc"))
        disk = volumes.describe(disk_id)
        assert (disk.zone, disk.size_gb) == (double["zone"], 2)
        assert disk.tags["openstack:project"] == "p-yc"
        volumes.delete(disk_id)


def test_a_backend_starts_before_its_clouds_ca_exists(tmp_path):
    """cinder-volume sets its drivers up before the cloud's endpoint is there: the client is
    built at the first request, and a missing CA file is that request's clear error."""
    missing = tmp_path / "ca.pem"
    project = ProjectCloud("p-yc", "yandex", None, "ru-central1-a", {"iam_token": "t"},
                           {"folder_id": "f"})
    edge = VolumeCloud(_conf(yandex={"root_certificates_file": str(missing)}), "yandex",
                       MapAdapter({"p-yc": project}))
    with pytest.raises(CloudError, match=r"\[yandex\] root_certificates_file: cannot read"):
        edge.volumes(edge.project("p-yc"))
