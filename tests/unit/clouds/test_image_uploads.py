"""Uploading a Glance image to AWS: the API's checks, then the worker's steps against moto
(S3, and ImportImage/DescribeImportImageTasks from the sandbox's AWS double), the AMI
registered back in Glance."""

from __future__ import annotations

import threading

import boto3
import pytest
from moto.ec2.responses import EC2Response

from clouds.image_uploads import ImageUploads, percent
from tests.unit.clouds.conftest import UPLOAD_BUCKET
from tests.unit.clouds.doubles import aws_double
from tests.unit.clouds.test_api import aws_body, error_of, yandex_body
from tests.unit.clouds.test_cli import aos, one_line_error

DATA = b"\x00AOS raw image\x00" * 4096


@pytest.fixture
def aws(client, runtime, monkeypatch):
    """An AWS-bound project, VM Import in moto, the bucket, and queued uploads recorded."""
    monkeypatch.setattr(EC2Response, "import_image", aws_double.import_image, raising=False)
    monkeypatch.setattr(EC2Response, "describe_import_image_tasks",
                        aws_double.describe_import_image_tasks, raising=False)
    assert client.post("/v1/clouds", json=aws_body()).status_code == 201
    s3 = boto3.client("s3", region_name="us-east-2")
    s3.create_bucket(Bucket=UPLOAD_BUCKET,
                     CreateBucketConfiguration={"LocationConstraint": "us-east-2"})
    queued: list[int] = []
    monkeypatch.setattr(runtime, "dispatch", lambda task, upload_id: queued.append(upload_id))
    return s3, queued


def test_upload_becomes_an_ami_registered_in_glance(client, runtime, aws):
    s3, queued = aws
    fake = runtime.openstack
    image = fake.add_image("aws", DATA, name="my-server")
    answer = client.post("/v1/clouds/aws/image-uploads", json={"image_id": image["id"]})
    assert answer.status_code == 202, answer.get_data(as_text=True)
    upload = answer.get_json()
    assert (upload["state"], upload["progress"], upload["size"]) == ("pending", 0, len(DATA))
    assert queued == [upload["id"]]

    assert ImageUploads(runtime).run(upload["id"], sleep=lambda _: None) == "done"
    done = client.get(f"/v1/clouds/aws/image-uploads/{upload['id']}").get_json()
    assert (done["state"], done["progress"], done["error"]) == ("done", 100, None)
    assert done["bytes_uploaded"] == len(DATA)
    key = f"aos-uploads/{image['id']}"
    assert s3.get_object(Bucket=UPLOAD_BUCKET, Key=key)["Body"].read() == DATA
    ami = boto3.client("ec2", region_name="us-east-2").describe_images(
        ImageIds=[done["cloud_image_id"]])["Images"][0]
    assert ami["State"] == "available"
    registered = fake.images[done["glance_image_id"]]
    assert (registered["aos_cloud"], registered["aos_cloud_image_id"]) == ("aws", ami["ImageId"])
    assert registered["name"] == "my-server" and registered["status"] == "active"
    assert registered["locations"][0]["url"].startswith(f"aws://us-east-2/{ami['ImageId']}?")
    mapped = client.get("/v1/clouds/aws/resources?kind=image").get_json()
    assert [(m["openstack_id"], m["cloud_resource_id"]) for m in mapped] == [
        (image["id"], ami["ImageId"])]

    again = client.post("/v1/clouds/aws/image-uploads", json={"image_id": image["id"]})
    assert again.get_json()["id"] == upload["id"] and again.get_json()["state"] == "done"
    assert queued == [upload["id"]]  # nothing queued twice
    assert [u["id"] for u in client.get("/v1/clouds/aws/image-uploads").get_json()] == [
        upload["id"]]


def test_refusals_say_why_and_queue_nothing(client, runtime, aws, yc):
    _, queued = aws
    fake = runtime.openstack
    uploads = "/v1/clouds/aws/image-uploads"
    assert "no Glance image nope" in error_of(client.post(uploads, json={"image_id": "nope"}),
                                              404)
    queued_image = fake.create_image(fake.project_id("aws"), {"name": "empty"})
    assert "only an active image" in error_of(
        client.post(uploads, json={"image_id": queued_image["id"]}), 409)
    theirs = fake.add_image("other", DATA)
    assert "belongs to project" in error_of(
        client.post(uploads, json={"image_id": theirs["id"]}), 400)
    qcow = fake.add_image("aws", DATA, disk_format="qcow2")
    assert "convert it first" in error_of(client.post(uploads, json={"image_id": qcow["id"]}),
                                          400)
    huge = fake.add_image("aws", DATA)
    huge["size"] = 2000 * 1024**3
    assert "max_size_gb" in error_of(client.post(uploads, json={"image_id": huge["id"]}), 400)
    client.post("/v1/clouds", json=yandex_body(yc))
    raw = fake.add_image("yandex", DATA)
    assert "yandex imports qcow2, vhd, vhdx, vmdk" in error_of(client.post(
        "/v1/clouds/yandex/image-uploads", json={"image_id": raw["id"]}), 400)
    runtime.conf.set_override("aws_bucket", None, group="images")
    mine = fake.add_image("aws", DATA)
    assert "[images] aws_bucket" in error_of(client.post(uploads, json={"image_id": mine["id"]}),
                                             400)
    runtime.conf.clear_override("aws_bucket", group="images")
    assert error_of(client.get(f"{uploads}/12345"), 404)
    assert queued == []


def test_a_failed_upload_says_why_and_starts_again(client, runtime, aws):
    s3, queued = aws
    image = runtime.openstack.add_image("aws", DATA)
    s3.delete_bucket(Bucket=UPLOAD_BUCKET)
    upload = client.post("/v1/clouds/aws/image-uploads",
                         json={"image_id": image["id"]}).get_json()
    assert ImageUploads(runtime).run(upload["id"]) == "failed"
    failed = client.get(f"/v1/clouds/aws/image-uploads/{upload['id']}").get_json()
    assert failed["state"] == "failed" and "NoSuchBucket" in failed["error"]
    s3.create_bucket(Bucket=UPLOAD_BUCKET,
                     CreateBucketConfiguration={"LocationConstraint": "us-east-2"})
    retried = client.post("/v1/clouds/aws/image-uploads", json={"image_id": image["id"]})
    assert retried.get_json()["state"] == "pending" and queued == [upload["id"]] * 2
    assert ImageUploads(runtime).run(upload["id"], sleep=lambda _: None) == "done"


def test_upload_to_yandex_becomes_a_compute_image(client, runtime, yc):
    """Object Storage is moto's S3 here (Yandex's speaks S3); Compute is the Yandex double."""
    client.post("/v1/clouds", json=yandex_body(yc))
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=f"{UPLOAD_BUCKET}-yc")
    fake = runtime.openstack
    image = fake.add_image("yandex", DATA, disk_format="qcow2", name="yc-image")
    monkey_queue: list[int] = []
    runtime.dispatch = lambda task, upload_id: monkey_queue.append(upload_id)
    upload = client.post("/v1/clouds/yandex/image-uploads",
                         json={"image_id": image["id"]}).get_json()
    assert ImageUploads(runtime).run(upload["id"], sleep=lambda _: None) == "done"
    done = client.get(f"/v1/clouds/yandex/image-uploads/{upload['id']}").get_json()
    assert done["state"] == "done" and done["cloud_image_id"].startswith("fd8")
    key = f"aos-uploads/{image['id']}"
    assert s3.get_object(Bucket=f"{UPLOAD_BUCKET}-yc", Key=key)["Body"].read() == DATA
    registered = fake.images[done["glance_image_id"]]
    assert registered["aos_cloud_image_id"] == done["cloud_image_id"]
    assert registered["locations"][0]["url"].startswith(
        f"yandex://ru-central1/{done['cloud_image_id']}?project=")


def test_progress_is_half_upload_half_import():
    assert percent("pending", 0, 100, 0) == 0
    assert percent("uploading", 50, 100, 0) == 25
    assert percent("importing", 100, 100, 0) == 50
    assert percent("importing", 100, 100, 60) == 80
    assert percent("registering", 100, 100, 100) == 99
    assert percent("done", 0, 0, 0) == 100


def test_cli_upload_waits_for_the_worker(server, aws, monkeypatch):
    url, runtime = server
    monkeypatch.setattr("clouds.cli.registrations.UPLOAD_POLL", 0.05)
    monkeypatch.setattr(runtime, "dispatch", lambda task, upload_id: threading.Thread(
        target=ImageUploads(runtime).run, args=(upload_id,), daemon=True).start())
    image = runtime.openstack.add_image("aws", DATA)
    done = aos(url, "images", "upload", "--project", "aws", image["id"], "--wait",
               "-f", "json")
    assert done.code == 0, done.err
    assert done.json()["State"] == "done" and done.json()["Cloud image id"].startswith("ami-")
    qcow = runtime.openstack.add_image("aws", DATA, disk_format="qcow2")
    refused = one_line_error(aos(url, "images", "upload", "--project", "aws", qcow["id"]))
    assert refused.startswith("400") and "convert it first" in refused


def _lease(runtime, upload_id: int, owner: str | None, seconds_from_now: float) -> None:
    """Set the upload's lease as another worker would have left it."""
    import sqlalchemy as sa

    from aos.db.clock import db_utcnow
    from clouds.db.models import ImageUpload

    with runtime.transaction() as session:
        session.execute(sa.update(ImageUpload).where(ImageUpload.id == upload_id).values(
            owner=owner, lease_until=db_utcnow(seconds_from_now)))


def test_an_upload_another_worker_holds_is_not_run_twice_until_its_lease_runs_out(
        client, runtime, aws):
    from clouds.image_uploads import HELD

    image = runtime.openstack.add_image("aws", DATA, name="held")
    upload = client.post("/v1/clouds/aws/image-uploads", json={"image_id": image["id"]}
                         ).get_json()
    _lease(runtime, upload["id"], "other-worker:1:abc", 120)
    assert ImageUploads(runtime, owner="me").run(upload["id"], sleep=lambda _: None) == HELD
    shown = client.get(f"/v1/clouds/aws/image-uploads/{upload['id']}").get_json()
    assert (shown["state"], shown["bytes_uploaded"]) == ("pending", 0)  # nothing touched
    assert "Contents" not in aws[0].list_objects_v2(Bucket=UPLOAD_BUCKET)

    _lease(runtime, upload["id"], "other-worker:1:abc", -1)  # that worker died
    assert ImageUploads(runtime, owner="me").run(upload["id"], sleep=lambda _: None) == "done"
    with runtime.transaction() as session:
        from clouds.db import api as db

        row = db.upload(session, upload["id"])
        assert (row.owner, row.lease_until) == (None, None)  # released when done


def test_a_worker_whose_upload_was_taken_over_stops_without_failing_it(client, runtime, aws):
    from clouds.image_uploads import HELD

    image = runtime.openstack.add_image("aws", DATA, name="taken")
    upload = client.post("/v1/clouds/aws/image-uploads", json={"image_id": image["id"]}
                         ).get_json()
    uploads = ImageUploads(runtime, owner="slow-worker")
    real_save = uploads._save

    def taken_over_before_the_import(upload_id, release=False, **values):
        if values.get("state") == "importing":
            _lease(runtime, upload_id, "new-worker", 300)
        real_save(upload_id, release=release, **values)

    uploads._save = taken_over_before_the_import
    assert uploads.run(upload["id"], sleep=lambda _: None) == HELD
    shown = client.get(f"/v1/clouds/aws/image-uploads/{upload['id']}").get_json()
    assert shown["state"] == "uploading" and shown["error"] is None
