"""Spec 000's Cinder backends on the sandbox's real Cinder: ``ebs`` (EBSDriver, moto as AWS),
``yandex`` (VolumeDriver, the Yandex gRPC double) and the ordinary backend, scheduled by the
spec's ``scheduler_default_filters`` with CloudBackendsFilter, the Clouds API in the catalog.

Everything goes through the Cinder API as a member of the project. After each step the cloud
holds exactly the project's expected volumes and snapshots (found by the drivers' tags), in
the project's zone and of the expected size; nothing is left at the end.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from yandex.cloud.compute.v1 import disk_service_pb2, snapshot_service_pb2
from yandex.cloud.compute.v1.disk_service_pb2_grpc import DiskServiceStub
from yandex.cloud.compute.v1.snapshot_service_pb2_grpc import SnapshotServiceStub

from clouds_drivers.providers import yandex
from clouds_drivers.providers.base import Account
from tests.functional.clouds_harness import Clouds, registered_clouds_api

pytestmark = pytest.mark.functional

ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
AWS_REGION, AWS_ZONE = "us-east-2", "us-east-2b"
YANDEX_ZONE = "ru-central1-b"
#: Volume hosts as cinder-volume names them: <host>@<backend>#<pool>.
HOSTS = {"aws": "sandbox@ebs#ebs", "yandex": "sandbox@yandex#yandex",
         None: "sandbox@ordinary#fake"}
WAIT = 120

#: What a cloud holds for a project: volumes {openstack id: (GiB, zone, source snapshot's
#: openstack id or None)} and snapshots {openstack id: source volume's openstack id}.
CloudState = dict[str, dict[str, Any]]


@pytest.fixture(scope="module")
def clouds(sandbox, tmp_path_factory) -> Iterator[Clouds]:
    with registered_clouds_api(sandbox, tmp_path_factory.mktemp("clouds")) as api:
        yield api


# --- what each cloud holds ---------------------------------------------------------------------

def _tags(items: list[dict[str, str]]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in items}


def aws_state(sandbox) -> Callable[[str], CloudState]:
    ec2 = boto3.client("ec2", endpoint_url=sandbox.info["doubles"]["aws"]["endpoint_url"],
                       region_name=AWS_REGION, aws_access_key_id=ACCESS_KEY,
                       aws_secret_access_key=SECRET_KEY)

    def state(project_id: str) -> CloudState:
        mine = [{"Name": "tag:openstack:project", "Values": [project_id]}]
        snapshots = {s["SnapshotId"]: _tags(s.get("Tags", []))["openstack:id"]
                     for s in ec2.describe_snapshots(Filters=mine)["Snapshots"]}
        volumes = {v["VolumeId"]: v for v in ec2.describe_volumes(Filters=mine)["Volumes"]}
        by_cloud_id = {cloud_id: _tags(v["Tags"])["openstack:id"]
                       for cloud_id, v in volumes.items()}
        return {
            "volumes": {_tags(v["Tags"])["openstack:id"]: (
                v["Size"], v["AvailabilityZone"], snapshots.get(v.get("SnapshotId") or ""))
                for v in volumes.values()},
            "snapshots": {
                _tags(s.get("Tags", []))["openstack:id"]: by_cloud_id.get(s["VolumeId"])
                for s in ec2.describe_snapshots(Filters=mine)["Snapshots"]},
        }

    state.ec2 = ec2  # type: ignore[attr-defined]
    return state


def yandex_state(sandbox) -> Callable[[str], CloudState]:
    double = sandbox.info["doubles"]["yandex"]
    key = json.loads(Path(double["service_account_key_file"]).read_text())
    provider = yandex.YandexProvider(yandex.Settings(
        endpoint=double["endpoint"],
        root_certificates=Path(double["root_certificates_file"]).read_bytes(), timeout=10))
    sdk = provider.sdk_for(Account("yandex", YANDEX_ZONE, None, {
        "service_account_id": key["service_account_id"], "key_id": key["id"],
        "private_key": key["private_key"]}))
    disks, snaps = sdk.client(DiskServiceStub), sdk.client(SnapshotServiceStub)
    folder = double["folder_id"]

    def state(project_id: str) -> CloudState:
        all_disks = disks.List(disk_service_pb2.ListDisksRequest(folder_id=folder),
                               timeout=10).disks
        all_snaps = snaps.List(snapshot_service_pb2.ListSnapshotsRequest(folder_id=folder),
                               timeout=10).snapshots
        mine = [d for d in all_disks if d.labels.get("openstack-project") == project_id]
        my_snaps = [s for s in all_snaps if s.labels.get("openstack-project") == project_id]
        snap_ids = {s.id: s.labels["openstack-id"] for s in my_snaps}
        disk_ids = {d.id: d.labels["openstack-id"] for d in mine}
        return {
            "volumes": {d.labels["openstack-id"]: (
                d.size // 1024**3, d.zone_id, snap_ids.get(d.source_snapshot_id))
                for d in mine},
            "snapshots": {s.labels["openstack-id"]: disk_ids.get(s.source_disk_id)
                          for s in my_snaps},
        }

    state.disks = disks  # type: ignore[attr-defined]
    state.snaps = snaps  # type: ignore[attr-defined]
    return state


# --- binding a project, as the guide does it ---------------------------------------------------

@contextlib.contextmanager
def bound(clouds: Clouds, project: Any, cloud: str, tmp_path: Path) -> Iterator[str]:
    """``openstack aos clouds add aws|yandex`` for the project; its zone. Undone after."""
    if cloud == "aws":
        args, zone = ["--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY, "--region",
                      AWS_REGION, "--az", AWS_ZONE], AWS_ZONE
    else:
        double = clouds.sandbox.info["doubles"]["yandex"]
        key = json.loads(Path(double["service_account_key_file"]).read_text())
        private = tmp_path / "private.key"
        private.write_text(key["private_key"])
        args, zone = ["--service-account-id", key["service_account_id"], "--key-id", key["id"],
                      "--private-key", str(private), "--folder-id", double["folder_id"],
                      "--az", YANDEX_ZONE], YANDEX_ZONE
    added = clouds.openstack("aos", "clouds", "add", cloud, "--project", project.name, *args)
    assert added.code == 0, added.err
    try:
        yield zone
    finally:
        _delete_volumes(clouds.sandbox.conn("admin"), project.id)
        clouds.openstack("aos", "clouds", "delete", "--project", project.name, "--force")


def _delete_volumes(admin: Any, project_id: str) -> None:
    storage = admin.block_storage
    for snapshot in storage.snapshots(all_projects=True, project_id=project_id):
        with contextlib.suppress(Exception):
            storage.delete_snapshot(snapshot, force=True)
            storage.wait_for_delete(snapshot, wait=WAIT)
    for volume in storage.volumes(all_projects=True, project_id=project_id):
        with contextlib.suppress(Exception):
            storage.delete_volume(volume, force=True)
            storage.wait_for_delete(volume, wait=WAIT)


def resource_map(clouds: Clouds, project_id: str) -> dict[tuple[str, str], str]:
    answer = clouds.sandbox.conn("admin").session.get(
        f"{clouds.url}/v1/clouds/{project_id}/resources")
    assert answer.status_code == 200, answer.text
    return {(r["kind"], r["openstack_id"]): r["cloud_resource_id"] for r in answer.json()}


def available(storage: Any, item: Any, status: str = "available") -> Any:
    return storage.wait_for_status(item, status=status, failures=["error", "error_extending"],
                                   wait=WAIT, interval=0.5)


def extended(storage: Any, volume: Any, size: int) -> Any:
    """Extend and wait until Cinder shows the new size, available again (the SDK's wait
    would return at once: the local object still says ``available``)."""
    storage.extend_volume(volume, size)
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        now = storage.get_volume(volume.id)
        assert now.status != "error_extending", now.metadata
        if (now.status, now.size) == ("available", size):
            return now
        time.sleep(0.5)
    raise TimeoutError(f"volume {volume.id} not extended to {size} GiB in {WAIT}s")


def host_of(admin: Any, volume: Any) -> str:
    return admin.block_storage.get_volume(volume.id).host


# --- the tests ------------------------------------------------------------------------------

@pytest.mark.parametrize("cloud", ["aws", "yandex"])
def test_volume_lifecycle_in_the_projects_cloud(clouds: Clouds, sandbox, project, cloud: str,
                                                tmp_path: Path) -> None:
    state = aws_state(sandbox) if cloud == "aws" else yandex_state(sandbox)
    admin, storage, pid = sandbox.conn("admin"), project.conn.block_storage, project.id
    with bound(clouds, project, cloud, tmp_path) as zone:
        # create -> one volume in the project's zone, tagged, mapped, on the cloud's backend
        volume = available(storage, storage.create_volume(size=1, name="data"))
        assert host_of(admin, volume) == HOSTS[cloud]
        assert state(pid) == {"volumes": {volume.id: (1, zone, None)}, "snapshots": {}}
        mapped = resource_map(clouds, pid)
        assert set(mapped) == {("volume", volume.id)}

        # snapshot -> one snapshot of that volume
        snapshot = available(storage, storage.create_snapshot(volume_id=volume.id,
                                                              name="snap"))
        assert state(pid)["snapshots"] == {snapshot.id: volume.id}

        # volume from the snapshot, bigger -> a second volume made from that snapshot
        copy = available(storage, storage.create_volume(size=2, snapshot_id=snapshot.id))
        assert host_of(admin, copy) == HOSTS[cloud]
        assert state(pid)["volumes"] == {volume.id: (1, zone, None),
                                         copy.id: (2, zone, snapshot.id)}

        # extend -> the cloud volume grows
        extended(storage, volume, 3)
        assert state(pid)["volumes"][volume.id] == (3, zone, None)
        assert set(resource_map(clouds, pid)) == {
            ("volume", volume.id), ("volume", copy.id), ("snapshot", snapshot.id)}

        # delete all -> nothing left in the cloud or the map
        storage.delete_volume(copy)
        storage.wait_for_delete(copy, wait=WAIT)
        storage.delete_snapshot(snapshot)
        storage.wait_for_delete(snapshot, wait=WAIT)
        storage.delete_volume(volume)
        storage.wait_for_delete(volume, wait=WAIT)
        assert state(pid) == {"volumes": {}, "snapshots": {}}
        assert resource_map(clouds, pid) == {}


def test_volume_from_a_registered_cloud_image(clouds: Clouds, sandbox, project,
                                              tmp_path: Path) -> None:
    """An AMI registered with ``openstack aos clouds images register`` -> an EBS volume made
    from the AMI's root snapshot by AWS itself (the driver's clone_image).

    Cinder takes only ``active`` images: registering gives the image its location in the
    ``aws_store`` (the Glance store driver), which makes it active with no data uploaded.
    """
    state = aws_state(sandbox)
    admin, storage = sandbox.conn("admin"), project.conn.block_storage
    with bound(clouds, project, "aws", tmp_path):
        ami, root = next(
            (image, mapping["Ebs"])
            for image in state.ec2.describe_images(Filters=[
                {"Name": "root-device-type", "Values": ["ebs"]}])["Images"]
            for mapping in image.get("BlockDeviceMappings", [])
            if mapping.get("DeviceName") == image.get("RootDeviceName")
            and mapping.get("Ebs", {}).get("SnapshotId"))
        registered = clouds.openstack("aos", "clouds", "images", "register", "--project",
                                      project.name, "--cloud-image-id", ami["ImageId"],
                                      "-f", "json")
        assert registered.code == 0, registered.err
        image_id = registered.json()["Image id"]
        assert admin.image.get_image(image_id).status == "active"
        size = max(1, admin.image.get_image(image_id).min_disk)
        volume = available(storage, storage.create_volume(size=size, image_id=image_id))
        assert storage.get_volume(volume.id).is_bootable
        cloud_id = resource_map(clouds, project.id)[("volume", volume.id)]
        ebs = state.ec2.describe_volumes(VolumeIds=[cloud_id])["Volumes"][0]
        assert (ebs["SnapshotId"], ebs["Size"]) == (root["SnapshotId"], size)
        storage.delete_volume(volume)
        storage.wait_for_delete(volume, wait=WAIT)
        assert state(project.id) == {"volumes": {}, "snapshots": {}}
        admin.image.delete_image(image_id, ignore_missing=True)


def test_a_project_without_a_cloud_never_reaches_a_cloud_backend(clouds: Clouds, sandbox,
                                                                  project) -> None:
    admin, storage = sandbox.conn("admin"), project.conn.block_storage
    aws, yc = aws_state(sandbox), yandex_state(sandbox)
    ebs_before = {v["VolumeId"] for v in aws.ec2.describe_volumes()["Volumes"]}
    volume = available(storage, storage.create_volume(size=1, name="plain"))
    try:
        assert host_of(admin, volume) == HOSTS[None]
        assert {v["VolumeId"] for v in aws.ec2.describe_volumes()["Volumes"]} == ebs_before
        assert yc(project.id) == {"volumes": {}, "snapshots": {}}
    finally:
        storage.delete_volume(volume)
        storage.wait_for_delete(volume, wait=WAIT)


def test_a_cloud_error_is_the_volumes_error_with_the_clouds_message(
        clouds: Clouds, sandbox, project, tmp_path: Path) -> None:
    """The project's EBS snapshot deleted behind Cinder's back: a volume from it fails in
    AWS; the volume is ``error``, the cloud's message in its ``aos_cloud_error``."""
    state = aws_state(sandbox)
    storage = project.conn.block_storage
    with bound(clouds, project, "aws", tmp_path):
        volume = available(storage, storage.create_volume(size=1))
        snapshot = available(storage, storage.create_snapshot(volume_id=volume.id))
        cloud_snapshot = resource_map(clouds, project.id)[("snapshot", snapshot.id)]
        state.ec2.delete_snapshot(SnapshotId=cloud_snapshot)

        broken = storage.create_volume(size=1, snapshot_id=snapshot.id)
        broken = storage.wait_for_status(broken, status="error", failures=["available"],
                                         wait=WAIT, interval=0.5)
        message = storage.get_volume(broken.id).metadata["aos_cloud_error"]
        assert f"creating volume {broken.id} from snapshot {snapshot.id}" in message
        assert "InvalidSnapshot.NotFound" in message  # moto's text is the code alone
        assert set(state(project.id)["volumes"]) == {volume.id}
