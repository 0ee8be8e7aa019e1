"""The worker's snapshot pass: the cloud image of a server snapshot deleted from Glance goes
too (AWS: the AMI and its EBS snapshot, in moto; Yandex: the image, in the double); images
registered from the cloud and snapshots still in Glance are never touched."""

from __future__ import annotations

import boto3
from yandex.cloud.compute.v1 import image_pb2, image_service_pb2
from yandex.cloud.compute.v1.image_service_pb2_grpc import ImageServiceStub

from clouds.accounts import Accounts
from clouds.tasks import clean_snapshots
from tests.unit.clouds.test_api import aws_body, yandex_body


def _map(client, project: str, glance_id: str, cloud_id: str, data: dict) -> None:
    answer = client.post(f"/v1/clouds/{project}/resources", json={
        "kind": "image", "openstack_id": glance_id, "cloud_resource_id": cloud_id,
        "data": data})
    assert answer.status_code in (200, 201), answer.get_json()


def _mapped_images(client, project: str) -> set[str]:
    return {r["openstack_id"] for r in
            client.get(f"/v1/clouds/{project}/resources?kind=image").get_json()}


def test_a_deleted_snapshots_ami_and_its_ebs_snapshot_go_the_rest_stays(client, runtime):
    client.post("/v1/clouds", json=aws_body())
    ec2 = boto3.client("ec2", region_name="us-east-2")
    base = ec2.describe_images()["Images"][0]["ImageId"]
    instance = ec2.run_instances(ImageId=base, MinCount=1, MaxCount=1)["Instances"][0]
    snapshot_ami, kept_ami = (
        ec2.create_image(InstanceId=instance["InstanceId"], Name=name)["ImageId"]
        for name in ("openstack-snapshot-a", "openstack-snapshot-b"))
    (described,) = ec2.describe_images(ImageIds=[snapshot_ami])["Images"]
    ebs = [m["Ebs"]["SnapshotId"] for m in described["BlockDeviceMappings"] if "Ebs" in m]
    openstack = runtime.openstack
    openstack.images["glance-b"] = {"id": "glance-b", "owner": "aws"}
    _map(client, "aws", "glance-a", snapshot_ami, {"instance": "vm-1"})  # gone from Glance
    _map(client, "aws", "glance-b", kept_ami, {"instance": "vm-1"})      # still in Glance
    _map(client, "aws", "glance-r", base, {})                            # registered, gone

    (report,) = clean_snapshots(runtime).values()

    assert report == [{"glance_image_id": "glance-a", "cloud_image_id": snapshot_ami}]
    assert {i["ImageId"] for i in ec2.describe_images(
        Filters=[{"Name": "image-id", "Values": [snapshot_ami, kept_ami, base]}])["Images"]
        } == {kept_ami, base}
    remaining = {s["SnapshotId"] for s in ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"]}
    assert ebs and not set(ebs) & remaining
    assert _mapped_images(client, "aws") == {"glance-b", "glance-r"}
    assert list(clean_snapshots(runtime).values()) == [[]]  # nothing more to delete


def test_a_deleted_snapshots_yandex_image_goes(client, runtime, yc):
    client.post("/v1/clouds", json=yandex_body(yc))
    with runtime.transaction() as session:
        accounts = Accounts(runtime)
        row, _ = accounts.row_of(session, "yandex")
        account = accounts.account(row)
    sdk, _ = runtime.provider("yandex")._iam_token(account)
    images = sdk.client(ImageServiceStub)
    made = sdk.wait_operation_and_get_result(images.Create(image_service_pb2.CreateImageRequest(
        folder_id=yc["folder_id"], name="openstack-snapshot-y", image_id=yc["image_id"])),
        response_type=image_pb2.Image).response
    _map(client, "yandex", "glance-y", made.id, {"instance": "vm-2"})

    (report,) = clean_snapshots(runtime).values()

    assert report == [{"glance_image_id": "glance-y", "cloud_image_id": made.id}]
    listed = images.List(image_service_pb2.ListImagesRequest(folder_id=yc["folder_id"]))
    assert made.id not in {i.id for i in listed.images}
    assert _mapped_images(client, "yandex") == set()
    runtime.provider("yandex").delete_image(account, made.id)  # already gone: no error
