"""Compute disks and snapshots of one Yandex.Cloud folder (the Cinder VolumeDriver's calls).

Yandex label keys allow neither ``:`` nor capitals, so a tag ``openstack:id`` is the label
``openstack-id``.
"""

from __future__ import annotations

from typing import Any

import grpc
from google.protobuf.field_mask_pb2 import FieldMask
from yandex.cloud.compute.v1 import disk_pb2, disk_service_pb2, snapshot_pb2, snapshot_service_pb2
from yandex.cloud.compute.v1.disk_service_pb2_grpc import DiskServiceStub
from yandex.cloud.compute.v1.snapshot_service_pb2_grpc import SnapshotServiceStub
from yandexcloud.operations import OperationError

from clouds_drivers.providers.base import Account, CloudError
from clouds_drivers.providers.volumes import CloudVolume, CloudVolumes, VolumeSource, gone_ok
from clouds_drivers.providers.yandex import YandexProvider, cloud_error

GIB = 1024**3
DISK_TYPE = "network-hdd"
#: How much longer than one call an operation may take to finish.
OPERATION_CALLS = 10


def labels_of(tags: dict[str, str]) -> dict[str, str]:
    return {key.lower().replace(":", "-"): value.lower() for key, value in tags.items()}


def tags_of(labels: dict[str, str]) -> dict[str, str]:
    return {key.replace("openstack-", "openstack:", 1): value for key, value in labels.items()}


class YandexVolumes(CloudVolumes):
    def __init__(self, provider: YandexProvider, account: Account) -> None:
        self.folder_id = account.options.get("folder_id")
        if not self.folder_id:
            raise CloudError("the project's Yandex.Cloud account has no folder_id")
        self.zone = account.zone
        self.timeout = provider.settings.timeout
        self.sdk = provider.sdk_for(account)
        self.disks = self.sdk.client(DiskServiceStub)
        self.snapshots = self.sdk.client(SnapshotServiceStub)

    def _operation(self, doing: str, method: Any, request: Any, response_type: Any = None,
                   meta_type: Any = None) -> Any:
        """Start an operation and wait for it; its response."""
        try:
            operation = method(request, timeout=self.timeout)
            result = self.sdk.wait_operation_and_get_result(
                operation, response_type=response_type, meta_type=meta_type,
                timeout=self.timeout * OPERATION_CALLS)
        except grpc.RpcError as exc:
            raise cloud_error(exc, doing) from None
        except OperationError as exc:
            raise CloudError(f"{doing}: {' '.join(exc.message.split())}") from None
        if not result.operation.done:
            raise CloudError(f"{doing}: operation {result.operation.id} not done after "
                             f"{self.timeout * OPERATION_CALLS:g} s")
        return result.response

    def _gone_ok(self, doing: str, method: Any, request: Any) -> None:
        gone_ok(lambda: self._operation(doing, method, request))

    def create(self, name: str, size_gb: int, tags: dict[str, str],
               source: VolumeSource | None = None) -> str:
        source = source or VolumeSource()
        # image_id and snapshot_id are a oneof: set only the one given.
        origin = {key: value for key, value in (("image_id", source.image_id),
                                                ("snapshot_id", source.snapshot_id)) if value}
        request = disk_service_pb2.CreateDiskRequest(
            folder_id=self.folder_id, zone_id=self.zone, name=name, labels=labels_of(tags),
            type_id=DISK_TYPE, size=size_gb * GIB, **origin)
        disk = self._operation(f"creating a {size_gb} GiB disk in {self.zone}",
                               self.disks.Create, request, disk_pb2.Disk,
                               disk_service_pb2.CreateDiskMetadata)
        return disk.id

    def delete(self, volume_id: str) -> None:
        self._gone_ok(f"deleting disk {volume_id}", self.disks.Delete,
                      disk_service_pb2.DeleteDiskRequest(disk_id=volume_id))

    def extend(self, volume_id: str, size_gb: int) -> None:
        self._operation(f"growing disk {volume_id} to {size_gb} GiB", self.disks.Update,
                        disk_service_pb2.UpdateDiskRequest(
                            disk_id=volume_id, size=size_gb * GIB,
                            update_mask=FieldMask(paths=["size"])))

    def snapshot(self, volume_id: str, name: str, tags: dict[str, str]) -> str:
        snapshot = self._operation(
            f"taking a snapshot of disk {volume_id}", self.snapshots.Create,
            snapshot_service_pb2.CreateSnapshotRequest(
                folder_id=self.folder_id, disk_id=volume_id, name=name, labels=labels_of(tags)),
            snapshot_pb2.Snapshot, snapshot_service_pb2.CreateSnapshotMetadata)
        return snapshot.id

    def delete_snapshot(self, snapshot_id: str) -> None:
        self._gone_ok(f"deleting snapshot {snapshot_id}", self.snapshots.Delete,
                      snapshot_service_pb2.DeleteSnapshotRequest(snapshot_id=snapshot_id))

    def describe(self, volume_id: str) -> CloudVolume | None:
        try:
            disk = self.disks.Get(disk_service_pb2.GetDiskRequest(disk_id=volume_id),
                                  timeout=self.timeout)
        except grpc.RpcError as exc:
            error = cloud_error(exc, f"looking up disk {volume_id}")
            if error.not_found:
                return None
            raise error from None
        return CloudVolume(id=disk.id, size_gb=disk.size // GIB, zone=disk.zone_id,
                           status=disk_pb2.Disk.Status.Name(disk.status).lower(),
                           tags=tags_of(dict(disk.labels)))
