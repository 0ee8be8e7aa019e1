"""Glance with spec 000's stores on the sandbox: glance-api loads ``aws_store`` and
``yandex_store`` from the installed clouds-drivers wheel as glance-api.conf names them; a
cloud image registered by ``openstack aos clouds images register`` shows its cloud location;
image data uploaded to ``aws_store`` lands in the configured bucket of moto's S3 and reads
back through Glance; a project without an AWS account is refused in one line; ``openstack aos
clouds images upload --wait`` takes a Glance image to S3 and VM Import (the AWS double's), or
to Object Storage (the AWS double's S3 stands in) and Yandex Compute's image create (the
Yandex double's), and registers the cloud image back in Glance."""

from __future__ import annotations

import struct
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from tests.functional.clouds_harness import Clouds, ok, registered_clouds_api, spec_project
from tests.functional.yandex_vpc import YandexVpc
from tools.aos_sandbox.client import connect
from tools.aos_sandbox.doubles.aws import YANDEX_BUCKET, YANDEX_STORAGE_KEY

pytestmark = pytest.mark.functional

ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
SPEC_AMI = "ami-0f7919c33c90f5b58"
REGION = "us-east-2"
#: glance-api.conf of the sandbox (tools/aos_sandbox/conffiles.py)
AWS_BUCKET = "aos-sandbox-aws-images"
PROJECT = "aws-images"
TO_AWS_STORE = {"Content-Type": "application/octet-stream", "X-Image-Meta-Store": "aws_store"}


@pytest.fixture(scope="module")
def clouds(sandbox, tmp_path_factory) -> Iterator[Clouds]:
    with registered_clouds_api(sandbox, tmp_path_factory.mktemp("clouds"), worker=True) as api:
        yield api


@pytest.fixture(scope="module")
def aws_project(clouds: Clouds) -> Iterator[str]:
    """An AWS-bound project as the guide makes it (the admin holds a role in it)."""
    with spec_project(clouds, PROJECT) as project_id:
        ok(clouds.openstack("aos", "clouds", "add", "aws", "--project", PROJECT,
                            "--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY,
                            "--region", REGION, "--az", f"{REGION}a"))
        yield project_id


def _glance(sandbox, project: str | None = None) -> Any:
    """Glance as the admin, scoped to ``project`` (a name: the project whose cloud the store
    uses; the admin holds a role there), else to the admin project."""
    if project is None:
        return sandbox.conn("admin").image
    creds = {**sandbox.info["admin"], "project_name": project}
    return connect(sandbox.info["auth_url"], creds, sandbox.info["region"]).image


@pytest.fixture
def s3(sandbox) -> Any:
    return boto3.client("s3", endpoint_url=sandbox.info["doubles"]["aws"]["endpoint_url"],
                        region_name=REGION, aws_access_key_id=ACCESS_KEY,
                        aws_secret_access_key=SECRET_KEY)


def test_glance_lists_the_spec_stores(sandbox) -> None:
    stores = _glance(sandbox).get("/info/stores").json()["stores"]
    by_id = {store["id"]: store for store in stores}
    assert set(by_id) == {"file_store", "http_store", "aws_store", "yandex_store"}
    assert by_id["file_store"].get("default") in (True, "true")  # Glance answers a string
    assert by_id["aws_store"]["description"] == "AWS images store"
    assert by_id["yandex_store"]["description"] == "Yandex images store"


def test_registered_image_shows_its_cloud_location(clouds: Clouds, sandbox,
                                                   aws_project: str) -> None:
    registered = ok(clouds.openstack("aos", "clouds", "images", "register", "--project",
                                     PROJECT, "--cloud-image-id", SPEC_AMI, "-f", "json"))
    location = f"aws://{REGION}/{SPEC_AMI}?project={aws_project}"
    assert registered["Location"] == location, registered
    image = _glance(sandbox).get(f"/images/{registered['Image id']}").json()
    assert image["status"] == "active"
    assert [(loc["url"], loc["metadata"].get("store")) for loc in image["locations"]] == [
        (location, "aws_store")]
    assert (image["aos_cloud"], image["aos_cloud_image_id"]) == ("aws", SPEC_AMI)
    again = ok(clouds.openstack("aos", "clouds", "images", "register", "--project", PROJECT,
                                "--cloud-image-id", SPEC_AMI, "-f", "json"))
    assert again["Image id"] == registered["Image id"] and again["Location"] == location
    # Deleting the Glance image leaves the AMI in the cloud.
    ok(clouds.openstack("aos", "clouds", "images", "unregister", "--project", PROJECT,
                        SPEC_AMI))
    ec2 = boto3.client("ec2", endpoint_url=sandbox.info["doubles"]["aws"]["endpoint_url"],
                       region_name=REGION, aws_access_key_id=ACCESS_KEY,
                       aws_secret_access_key=SECRET_KEY)
    assert ec2.describe_images(ImageIds=[SPEC_AMI])["Images"]


def test_upload_to_aws_store_lands_in_the_bucket(sandbox, aws_project: str, s3) -> None:
    glance = _glance(sandbox, PROJECT)
    data = b"AOS image for AWS " + uuid.uuid4().bytes * 64
    image = glance.post("/images", json={"name": "to-aws", "disk_format": "raw",
                                         "container_format": "bare"}).json()
    try:
        put = glance.put(f"/images/{image['id']}/file", data=data, headers=TO_AWS_STORE,
                         raise_exc=False)
        assert put.status_code == 204, put.text
        stored = s3.get_object(Bucket=AWS_BUCKET, Key=image["id"])["Body"].read()
        assert stored == data
        shown = _glance(sandbox).get(f"/images/{image['id']}").json()
        assert shown["status"] == "active" and shown["stores"] == "aws_store"
        assert shown["size"] == len(data)
        assert [loc["url"] for loc in shown["locations"]] == [
            f"aws://{REGION}/{AWS_BUCKET}/{image['id']}?project={aws_project}"]
        assert glance.get(f"/images/{image['id']}/file").content == data
    finally:
        glance.delete(f"/images/{image['id']}")
    missing = s3.list_objects_v2(Bucket=AWS_BUCKET, Prefix=image["id"]).get("KeyCount")
    assert missing == 0


def test_project_without_aws_account_cannot_upload_there(sandbox, clouds: Clouds) -> None:
    glance = _glance(sandbox)  # the admin project has no cloud account
    image = glance.post("/images", json={"name": "not-aws", "disk_format": "raw",
                                         "container_format": "bare"}).json()
    try:
        put = glance.put(f"/images/{image['id']}/file", data=b"x" * 10, headers=TO_AWS_STORE,
                         raise_exc=False)
        assert put.status_code == 503, put.text
        assert "has no aws account" in put.text
        assert glance.get(f"/images/{image['id']}").json()["status"] == "queued"
    finally:
        glance.delete(f"/images/{image['id']}")


def _glance_image(glance: Any, disk_format: str, data: bytes) -> dict[str, Any]:
    """A Glance image of the project holding ``data`` (deleted by the caller)."""
    image = glance.post("/images", json={"name": f"for-upload-{disk_format}",
                                         "disk_format": disk_format,
                                         "container_format": "bare"}).json()
    put = glance.put(f"/images/{image['id']}/file", data=data,
                     headers={"Content-Type": "application/octet-stream"}, raise_exc=False)
    assert put.status_code == 204, put.text
    return image


def _uploaded(clouds: Clouds, project: str, image: dict[str, Any]) -> dict[str, Any]:
    """``openstack aos clouds images upload --wait`` of the image: its upload, done."""
    done = ok(clouds.openstack("aos", "clouds", "images", "upload", "--project", project,
                               image["id"], "--wait", "--timeout", "120", "-f", "json"))
    assert (done["State"], done["Progress"]) == ("done", 100), done
    return done


def test_upload_to_aws_makes_an_ami_registered_back(clouds: Clouds, sandbox, aws_project: str,
                                                    s3) -> None:
    glance = _glance(sandbox, PROJECT)
    data = b"AOS image to import " + uuid.uuid4().bytes * 256
    image = _glance_image(glance, "raw", data)
    try:
        done = _uploaded(clouds, PROJECT, image)
        uploaded = s3.get_object(Bucket=AWS_BUCKET, Key=f"aos-uploads/{image['id']}")
        assert uploaded["Body"].read() == data
        ec2 = boto3.client("ec2", endpoint_url=sandbox.info["doubles"]["aws"]["endpoint_url"],
                           region_name=REGION, aws_access_key_id=ACCESS_KEY,
                           aws_secret_access_key=SECRET_KEY)
        ami = ec2.describe_images(ImageIds=[done["Cloud image id"]])["Images"][0]
        assert ami["State"] == "available"
        registered = _glance(sandbox).get(f"/images/{done['Glance image id']}").json()
        assert (registered["aos_cloud"], registered["aos_cloud_image_id"]) == (
            "aws", ami["ImageId"])
        assert registered["status"] == "active" and registered["owner"] == aws_project
        assert registered["locations"][0]["url"] == (
            f"aws://{REGION}/{ami['ImageId']}?project={aws_project}")
        again = ok(clouds.openstack("aos", "clouds", "images", "upload", "--project", PROJECT,
                                    image["id"], "-f", "json"))
        assert again["Id"] == done["Id"] and again["State"] == "done"
    finally:
        glance.delete(f"/images/{image['id']}")


YANDEX_PROJECT = "yandex-images"


@pytest.fixture(scope="module")
def yandex_project(clouds: Clouds, sandbox, tmp_path_factory) -> Iterator[str]:
    """A Yandex-bound project as the guide makes it (the admin holds a role in it)."""
    vpc = YandexVpc(sandbox.info["doubles"]["yandex"])
    with spec_project(clouds, YANDEX_PROJECT) as project_id:
        key = tmp_path_factory.mktemp("yandex-key") / "private.key"
        ok(clouds.openstack(*vpc.bind_args(YANDEX_PROJECT, key)))
        yield project_id


def qcow2(payload: bytes, virtual_size: int = 1 << 20) -> bytes:
    """A qcow2 (v3) header and ``payload``: Glance inspects what a ``bare`` image claims to
    be, and Yandex imports qcow2, not raw."""
    header = struct.pack(">4sIQIIQIIQQIIQQQQII", b"QFI\xfb", 3, 0, 0, 16, virtual_size, 0, 1,
                         0x30000, 0x10000, 1, 0, 0, 0, 0, 0, 4, 104)
    return header + bytes(8) + payload


def test_upload_to_yandex_makes_an_image_registered_back(clouds: Clouds, sandbox,
                                                         yandex_project: str) -> None:
    glance = _glance(sandbox, YANDEX_PROJECT)
    data = qcow2(b"AOS image for Yandex " + uuid.uuid4().bytes * 256)
    image = _glance_image(glance, "qcow2", data)
    try:
        done = _uploaded(clouds, YANDEX_PROJECT, image)
        storage = boto3.client("s3", endpoint_url=sandbox.info["doubles"]["aws"]["endpoint_url"],
                               region_name="us-east-1", aws_access_key_id=YANDEX_STORAGE_KEY[0],
                               aws_secret_access_key=YANDEX_STORAGE_KEY[1])
        stored = storage.get_object(Bucket=YANDEX_BUCKET, Key=f"aos-uploads/{image['id']}")
        assert stored["Body"].read() == data
        from yandex.cloud.compute.v1 import image_service_pb2
        from yandex.cloud.compute.v1.image_service_pb2_grpc import ImageServiceStub

        vpc = YandexVpc(sandbox.info["doubles"]["yandex"])
        made = vpc.sdk.client(ImageServiceStub).Get(
            image_service_pb2.GetImageRequest(image_id=done["Cloud image id"]))
        assert (made.folder_id, made.status) == (vpc.folder, made.READY)
        registered = _glance(sandbox).get(f"/images/{done['Glance image id']}").json()
        assert (registered["aos_cloud"], registered["aos_cloud_image_id"]) == (
            "yandex", made.id)
        assert registered["status"] == "active" and registered["owner"] == yandex_project
        assert registered["locations"][0]["url"].startswith("yandex://")
        assert made.id in registered["locations"][0]["url"]
    finally:
        glance.delete(f"/images/{image['id']}")
