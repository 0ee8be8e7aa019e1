"""Disk snapshots of the Yandex double: taken from a disk at once, READY, deletable."""

from __future__ import annotations

from yandex.cloud.compute.v1 import snapshot_pb2, snapshot_service_pb2, snapshot_service_pb2_grpc

from .operations import finished
from .state import Cloud, check_name, clone, listed, new_id, now


class SnapshotService(snapshot_service_pb2_grpc.SnapshotServiceServicer):
    def __init__(self, cloud: Cloud):
        self.cloud = cloud

    def Get(self, request, context):  # noqa: N802 - gRPC method names
        return clone(self.cloud.get(self.cloud.snapshots, "Snapshot", request.snapshot_id))

    def List(self, request, context):  # noqa: N802
        self.cloud.folder(request.folder_id)
        items, token = listed(self.cloud.snapshots.values(), request.folder_id, request.filter,
                              request.page_size, request.page_token)
        return snapshot_service_pb2.ListSnapshotsResponse(snapshots=items, next_page_token=token)

    def Create(self, request, context):  # noqa: N802
        folder_id = self.cloud.folder(request.folder_id)
        disk = self.cloud.get(self.cloud.disks, "Disk", request.disk_id)
        check_name("Snapshot", request.name, self.cloud.snapshots, folder_id)
        snapshot = snapshot_pb2.Snapshot(
            id=new_id("fd8"), folder_id=folder_id, created_at=now(), name=request.name,
            description=request.description, labels=dict(request.labels),
            storage_size=disk.size, disk_size=disk.size, product_ids=list(disk.product_ids),
            status=snapshot_pb2.Snapshot.READY, source_disk_id=disk.id)
        self.cloud.snapshots[snapshot.id] = snapshot
        return finished(self.cloud, "Create snapshot", snapshot_service_pb2.CreateSnapshotMetadata(
            snapshot_id=snapshot.id, disk_id=disk.id), snapshot)

    def Delete(self, request, context):  # noqa: N802
        snapshot = self.cloud.get(self.cloud.snapshots, "Snapshot", request.snapshot_id)
        del self.cloud.snapshots[snapshot.id]
        return finished(self.cloud, "Delete snapshot",
                        snapshot_service_pb2.DeleteSnapshotMetadata(snapshot_id=snapshot.id))
