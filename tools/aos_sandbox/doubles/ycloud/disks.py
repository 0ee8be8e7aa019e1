"""Compute disks of the Yandex double; also used by instances for their boot/secondary disks."""

from __future__ import annotations

from yandex.cloud.compute.v1 import disk_pb2, disk_service_pb2, disk_service_pb2_grpc

from .operations import finished
from .state import Cloud, check_name, clone, invalid, listed, new_id, not_found, now, precondition

DISK_TYPES = ("network-hdd", "network-ssd", "network-ssd-nonreplicated", "network-ssd-io-m3")


def new_disk(
    cloud: Cloud,
    folder_id: str,
    zone_id: str,
    name: str,
    description: str,
    type_id: str,
    size: int,
    image_id: str = "",
    snapshot_id: str = "",
    labels: dict[str, str] | None = None,
) -> disk_pb2.Disk:
    """Validate and store a READY disk (from an image or empty)."""
    check_name("Disk", name, cloud.disks, folder_id)
    type_id = type_id or "network-hdd"
    if type_id not in DISK_TYPES:
        raise not_found("Disk type", type_id)
    if image_id and snapshot_id:
        raise invalid("source", "only one of image_id and snapshot_id")
    disk = disk_pb2.Disk(
        id=new_id("fhm"),
        folder_id=folder_id,
        created_at=now(),
        name=name,
        description=description,
        labels=labels or {},
        type_id=type_id,
        zone_id=zone_id,
        block_size=4096,
        status=disk_pb2.Disk.READY,
    )
    if image_id:
        image = cloud.get(cloud.images, "Image", image_id)
        size = size or image.min_disk_size
        if size < image.min_disk_size:
            raise invalid(
                "size",
                f"Disk size {size} is less than the image minimum disk size {image.min_disk_size}",
            )
        disk.source_image_id = image_id
        disk.product_ids.extend(image.product_ids)
    if snapshot_id:
        snapshot = cloud.get(cloud.snapshots, "Snapshot", snapshot_id)
        size = size or snapshot.disk_size
        if size < snapshot.disk_size:
            raise invalid(
                "size", f"Disk size {size} is less than the snapshot disk size {snapshot.disk_size}"
            )
        disk.source_snapshot_id = snapshot_id
        disk.product_ids.extend(snapshot.product_ids)
    if size <= 0:
        raise invalid("size", "Field is required")
    disk.size = size
    cloud.disks[disk.id] = disk
    return disk


def usable_disk(cloud: Cloud, disk_id: str, zone_id: str) -> disk_pb2.Disk:
    """An existing disk that can be attached to an instance in `zone_id`."""
    disk = cloud.get(cloud.disks, "Disk", disk_id)
    if disk.zone_id != zone_id:
        raise precondition(
            f"Disk {disk_id} is in zone {disk.zone_id}, the instance is in {zone_id}"
        )
    if disk.instance_ids:
        raise precondition(f"Disk {disk_id} is already attached to instance {disk.instance_ids[0]}")
    return disk


class DiskService(disk_service_pb2_grpc.DiskServiceServicer):
    def __init__(self, cloud: Cloud):
        self.cloud = cloud

    def Get(self, request, context):  # noqa: N802 - gRPC method names
        return clone(self.cloud.get(self.cloud.disks, "Disk", request.disk_id))

    def List(self, request, context):  # noqa: N802
        self.cloud.folder(request.folder_id)
        items, token = listed(
            self.cloud.disks.values(),
            request.folder_id,
            request.filter,
            request.page_size,
            request.page_token,
        )
        return disk_service_pb2.ListDisksResponse(disks=items, next_page_token=token)

    def Create(self, request, context):  # noqa: N802
        folder_id = self.cloud.folder(request.folder_id)
        zone_id = self.cloud.zone(request.zone_id)
        if request.size <= 0:
            raise invalid("size", "Field is required")
        disk = new_disk(
            self.cloud,
            folder_id,
            zone_id,
            request.name,
            request.description,
            request.type_id,
            request.size,
            request.image_id,
            request.snapshot_id,
            dict(request.labels),
        )
        return finished(
            self.cloud, "Create disk", disk_service_pb2.CreateDiskMetadata(disk_id=disk.id), disk
        )

    def Update(self, request, context):  # noqa: N802
        """Only ``size`` (grow only, as Yandex allows) and ``labels`` are kept."""
        disk = self.cloud.get(self.cloud.disks, "Disk", request.disk_id)
        paths = set(request.update_mask.paths)
        if not paths:
            raise invalid("update_mask", "Field is required")
        if "size" in paths:
            if request.size < disk.size:
                raise invalid("size", f"Disk size can only grow (now {disk.size})")
            disk.size = request.size
        if "labels" in paths:
            disk.labels.clear()
            disk.labels.update(dict(request.labels))
        return finished(
            self.cloud,
            "Update disk",
            disk_service_pb2.UpdateDiskMetadata(disk_id=disk.id),
            clone(disk),
        )

    def Delete(self, request, context):  # noqa: N802
        disk = self.cloud.get(self.cloud.disks, "Disk", request.disk_id)
        if disk.instance_ids:
            raise precondition(
                f"Disk {disk.id} is attached to instance {disk.instance_ids[0]}, detach it first"
            )
        del self.cloud.disks[disk.id]
        return finished(
            self.cloud, "Delete disk", disk_service_pb2.DeleteDiskMetadata(disk_id=disk.id)
        )
