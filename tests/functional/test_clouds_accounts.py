"""The Clouds guide's sequence on the sandbox, as an operator types it: project create, role
add, ``openstack aos clouds add aws|yandex``, images register, flavors register; then what
Keystone, Glance, Nova and the cloud doubles hold. Bad input leaves nothing behind."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from tests.functional.clouds_harness import Clouds, clouds_api, ok, spec_project

pytestmark = pytest.mark.functional

SPEC_ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
SPEC_SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
SPEC_AMI = "ami-0f7919c33c90f5b58"


@pytest.fixture(scope="module")
def clouds(sandbox, tmp_path_factory) -> Iterator[Clouds]:
    assert "doubles" in sandbox.info, "the sandbox runs no cloud doubles"
    with clouds_api(sandbox, tmp_path_factory.mktemp("clouds")) as api:
        yield api


def one_line_error(result) -> str:
    assert result.code != 0, result.out
    lines = [line for line in result.err.splitlines() if line.strip()]
    assert len(lines) == 1, result.err
    return lines[0]


def test_aws_sequence_of_the_guide(clouds: Clouds, sandbox) -> None:
    with spec_project(clouds, "aws") as project_id:
        added = ok(clouds.openstack(
            "aos", "clouds", "add", "aws", "--project", "aws", "--access-key",
            SPEC_ACCESS_KEY, "--secret-key", SPEC_SECRET_KEY, "--region", "us-east-2",
            "--az", "us-east-2a", "-f", "json"))
        assert (added["Project id"], added["Provider"]) == (project_id, "aws")
        assert added["Credentials"] == "***"
        assert "409" in one_line_error(clouds.openstack(
            "aos", "clouds", "add", "aws", "--project", "aws", "--access-key",
            SPEC_ACCESS_KEY, "--secret-key", SPEC_SECRET_KEY, "--region", "us-east-2",
            "--az", "us-east-2a"))

        image = ok(clouds.openstack("aos", "clouds", "images", "register", "--project", "aws",
                                    "--cloud-image-id", SPEC_AMI, "-f", "json"))
        glance = sandbox.conn("admin").image.get_image(image["Image id"])
        assert glance.owner == project_id and glance.visibility == "private"
        assert glance.name == "amzn2-ami-hvm-2.0.20191116.0-x86_64-gp2"
        assert glance.architecture == "x86_64" and glance.min_disk == 15
        assert glance.properties["aos_cloud_image_id"] == SPEC_AMI
        assert glance.properties["aos_cloud"] == "aws"
        again = ok(clouds.openstack("aos", "clouds", "images", "register", "--project", "aws",
                                    "--cloud-image-id", SPEC_AMI, "-f", "json"))
        assert again["Image id"] == image["Image id"] and again["Created"] is False
        assert "404" in one_line_error(clouds.openstack(
            "aos", "clouds", "images", "register", "--project", "aws", "--cloud-image-id",
            "ami-0123456789abcdef0"))
        assert len(list(sandbox.conn("admin").image.images(owner=project_id))) == 1

        # The guide's line registers every type of the zone (over a thousand on moto):
        # shown with --dry-run, created for the t3 family.
        planned = ok(clouds.openstack("aos", "clouds", "flavors", "register", "--project",
                                      "aws", "--dry-run", "-f", "json"))
        assert len(planned) > 500 and {f["Status"] for f in planned} == {"would create"}
        made = ok(clouds.openstack("aos", "clouds", "flavors", "register", "--project", "aws",
                                   "--filter", "t3.*", "-f", "json"))
        assert {f["Status"] for f in made} == {"created"} and len(made) >= 7
        nova = sandbox.conn("admin").compute
        micro = nova.get_flavor(next(f["Id"] for f in made if f["Name"] == "aws.t3.micro"))
        assert (micro.vcpus, micro.ram, micro.is_public) == (2, 1024, False)
        assert nova.fetch_flavor_extra_specs(micro).extra_specs == {
            "aos:cloud": "aws", "aos:cloud_instance_type": "t3.micro"}
        access = [a["tenant_id"] for a in nova.get_flavor_access(micro)]
        assert access == [project_id]
        rerun = ok(clouds.openstack("aos", "clouds", "flavors", "register", "--project", "aws",
                                    "--filter", "t3.*", "-f", "json"))
        assert {f["Status"] for f in rerun} == {"exists"}

        # What a driver does with the short-lived credentials: reach AWS without the keys.
        service = sandbox.info["service_user"]
        creds = ok(clouds.openstack("aos", "clouds", "credentials", "--project", "aws",
                                    "-f", "json", creds=service))["Credentials"]
        assert creds["access_key"] and creds["session_token"]
        sts = boto3.client("sts", endpoint_url=sandbox.info["doubles"]["aws"]["endpoint_url"],
                           region_name="us-east-2", aws_access_key_id=creds["access_key"],
                           aws_secret_access_key=creds["secret_key"],
                           aws_session_token=creds["session_token"])
        assert sts.get_caller_identity()["Account"]
        assert ok(clouds.openstack("aos", "clouds", "check", "--project", "aws",
                                   "-f", "json"))["Status"] == "ok"


def test_yandex_sequence_of_the_guide(clouds: Clouds, sandbox, tmp_path: Path,
                                      monkeypatch) -> None:
    double = sandbox.info["doubles"]["yandex"]
    key = json.loads(Path(double["service_account_key_file"]).read_text())
    monkeypatch.chdir(tmp_path)
    Path("private.key").write_text(key["private_key"])
    with spec_project(clouds, "yandex") as project_id:
        added = ok(clouds.openstack(
            "aos", "clouds", "add", "yandex", "--project", "yandex", "--service-account-id",
            key["service_account_id"], "--private-key", "private.key", "--key-id", key["id"],
            "--folder-id", double["folder_id"], "--az", "ru-central1-a", "-f", "json"))
        assert (added["Project id"], added["Folder id"]) == (project_id, double["folder_id"])
        image = ok(clouds.openstack("aos", "clouds", "images", "register", "--project",
                                    "yandex", "--cloud-image-id", "fd8aossandbox0ubuntu",
                                    "-f", "json"))
        glance = sandbox.conn("admin").image.get_image(image["Image id"])
        assert (glance.owner, glance.min_disk) == (project_id, 8)
        made = ok(clouds.openstack("aos", "clouds", "flavors", "register", "--project",
                                   "yandex", "-f", "json"))
        assert len(made) == 30
        flavor = sandbox.conn("admin").compute.get_flavor(
            next(f["Id"] for f in made if f["Name"] == "yandex.s3-c2-m4"))
        assert (flavor.vcpus, flavor.ram) == (2, 4096)
        token = ok(clouds.openstack("aos", "clouds", "credentials", "--project", "yandex",
                                    "-f", "json", creds=sandbox.info["service_user"]))
        assert token["Credentials"]["iam_token"].startswith("t1.")


def test_bad_input_is_refused_and_leaves_nothing(clouds: Clouds, sandbox, project,
                                                 tmp_path: Path) -> None:
    name = project.name

    def add_aws(**changes: str):
        values = {"access-key": SPEC_ACCESS_KEY, "secret-key": SPEC_SECRET_KEY,
                  "region": "us-east-2", "az": "us-east-2a", **changes}
        args = [item for key, value in values.items() for item in (f"--{key}", value)]
        return clouds.openstack("aos", "clouds", "add", "aws", "--project", name, *args)

    assert "access_key" in one_line_error(add_aws(**{"access-key": "AKIAAOSNOSUCHKEY0000"}))
    assert "secret_key" in one_line_error(add_aws(**{"secret-key": "not-the-secret"}))
    assert "region" in one_line_error(add_aws(region="us-nowhere-1"))
    assert "az" in one_line_error(add_aws(az="us-east-2z"))
    assert "404" in one_line_error(clouds.openstack(
        "aos", "clouds", "add", "aws", "--project", f"nope-{uuid.uuid4().hex[:6]}",
        "--access-key", SPEC_ACCESS_KEY, "--secret-key", SPEC_SECRET_KEY,
        "--region", "us-east-2", "--az", "us-east-2a"))

    double = sandbox.info["doubles"]["yandex"]
    key = json.loads(Path(double["service_account_key_file"]).read_text())
    bad_key = tmp_path / "broken.key"
    bad_key.write_text("-----BEGIN PRIVATE KEY-----\nbroken\n-----END PRIVATE KEY-----\n")
    good_key = tmp_path / "private.key"
    good_key.write_text(key["private_key"])

    def add_yandex(key_file: Path, **changes: str):
        values = {"service-account-id": key["service_account_id"], "key-id": key["id"],
                  "folder-id": double["folder_id"], "az": "ru-central1-a", **changes}
        args = [item for k, value in values.items() for item in (f"--{k}", value)]
        return clouds.openstack("aos", "clouds", "add", "yandex", "--project", name,
                                "--private-key", str(key_file), *args)

    assert "private_key" in one_line_error(add_yandex(bad_key))
    assert "folder_id" in one_line_error(add_yandex(good_key, **{
        "folder-id": "b1gnosuchfolder00000"}))
    assert "az" in one_line_error(add_yandex(good_key, az="ru-central1-z"))
    assert "service_account_key" in one_line_error(add_yandex(good_key, **{
        "key-id": "ajenosuchkey00000000"}))

    listed = ok(clouds.openstack("aos", "clouds", "list", "-f", "json"))
    assert project.id not in {a["Project id"] for a in listed}

    # A project member may not add accounts nor take credentials (403), even for itself.
    ok(add_yandex(good_key))
    member = project.creds
    assert "403" in one_line_error(clouds.openstack(
        "aos", "clouds", "credentials", "--project", name, creds=member))
    assert "403" in one_line_error(clouds.openstack(
        "aos", "clouds", "images", "register", "--project", name, "--cloud-image-id",
        "fd8aossandbox0ubuntu", creds=member))
    assert list(sandbox.conn("admin").image.images(owner=project.id)) == []
    ok(clouds.openstack("aos", "clouds", "delete", "--project", name))


def test_resource_map_drift_and_delete_guard(clouds: Clouds, sandbox, project) -> None:
    from tests.functional.conftest import connect

    name = project.name
    ok(clouds.openstack("aos", "clouds", "add", "aws", "--project", name, "--access-key",
                        SPEC_ACCESS_KEY, "--secret-key", SPEC_SECRET_KEY, "--region",
                        "us-east-2", "--az", "us-east-2a"))
    aws = sandbox.info["doubles"]["aws"]
    ec2 = boto3.client("ec2", endpoint_url=aws["endpoint_url"], region_name="us-east-2",
                       aws_access_key_id=aws["access_key"],
                       aws_secret_access_key=aws["secret_key"])
    kept = ec2.create_volume(AvailabilityZone="us-east-2a", Size=1)["VolumeId"]
    gone = ec2.create_volume(AvailabilityZone="us-east-2a", Size=1)["VolumeId"]
    ec2.delete_volume(VolumeId=gone)

    # What a driver does: record mappings as the service user (keystone token, service role).
    service = connect(sandbox.info["auth_url"], sandbox.info["service_user"],
                      sandbox.info["region"])
    for openstack_id, volume_id in (("vol-kept", kept), ("vol-gone", gone)):
        answer = service.session.post(f"{clouds.url}/v1/clouds/{project.id}/resources",
                                      json={"kind": "volume", "openstack_id": openstack_id,
                                            "cloud_resource_id": volume_id})
        assert answer.status_code == 201, answer.text
    looked_up = service.session.get(f"{clouds.url}/v1/clouds/{project.id}/resources",
                                    params={"kind": "volume", "cloud_resource_id": kept})
    assert [r["openstack_id"] for r in looked_up.json()] == ["vol-kept"]

    drift = ok(clouds.openstack("aos", "clouds", "resource", "list", "--project", name,
                                "--drift", "--check", "-f", "json"))
    assert [(d["Openstack id"], d["Cloud resource id"]) for d in drift] == [("vol-gone", gone)]

    image = ok(clouds.openstack("aos", "clouds", "images", "register", "--project", name,
                                "--cloud-image-id", SPEC_AMI, "-f", "json"))
    ok(clouds.openstack("aos", "clouds", "images", "unregister", "--project", name, SPEC_AMI))
    assert sandbox.conn("admin").image.find_image(image["Image id"]) is None

    assert "2 volume" in one_line_error(clouds.openstack("aos", "clouds", "delete",
                                                         "--project", name))
    ok(clouds.openstack("aos", "clouds", "delete", "--project", name, "--force"))
    listed = ok(clouds.openstack("aos", "clouds", "list", "-f", "json"))
    assert project.id not in {a["Project id"] for a in listed}
    assert ec2.describe_volumes(VolumeIds=[kept])["Volumes"]  # the cloud keeps its volume
