"""Compute images of the Yandex double: imported from Object Storage, copied, or taken from a disk.

One public image is pre-seeded in the `standard-images` folder, as the hybrid-cloud code may
look images up by family there.
"""

from __future__ import annotations

import grpc
from yandex.cloud.compute.v1 import image_pb2, image_service_pb2, image_service_pb2_grpc

from . import config
from .operations import finished
from .state import GIB, ApiError, Cloud, check_name, clone, invalid, listed, new_id, not_found, now

STORAGE_URI_PREFIXES = ("https://storage.yandexcloud.net/", "https://storage.cloud.yandex.net/")


def seed_images(cloud: Cloud) -> None:
    image = image_pb2.Image(
        id="fd8aossandbox0ubuntu",
        folder_id=config.STANDARD_IMAGES_FOLDER_ID,
        created_at=now(),
        name="ubuntu-22-04-lts-v20260101",
        description="Ubuntu 22.04 LTS (sandbox double)",
        family="ubuntu-2204-lts",
        size=4 * GIB,
        storage_size=4 * GIB,
        min_disk_size=8 * GIB,
        status=image_pb2.Image.READY,
        os=image_pb2.Os(type=image_pb2.Os.LINUX),
    )
    cloud.images[image.id] = image


class ImageService(image_service_pb2_grpc.ImageServiceServicer):
    def __init__(self, cloud: Cloud):
        self.cloud = cloud

    def Get(self, request, context):  # noqa: N802 - gRPC method names
        return clone(self.cloud.get(self.cloud.images, "Image", request.image_id))

    def GetLatestByFamily(self, request, context):  # noqa: N802
        self.cloud.folder(request.folder_id)
        matches = [
            i
            for i in self.cloud.images.values()
            if i.folder_id == request.folder_id and i.family == request.family
        ]
        if not matches:
            raise not_found("Image family", request.family)
        return clone(max(matches, key=lambda i: (i.created_at.seconds, i.id)))

    def List(self, request, context):  # noqa: N802
        self.cloud.folder(request.folder_id)
        items, token = listed(
            self.cloud.images.values(),
            request.folder_id,
            request.filter,
            request.page_size,
            request.page_token,
        )
        return image_service_pb2.ListImagesResponse(images=items, next_page_token=token)

    def Create(self, request, context):  # noqa: N802
        folder_id = self.cloud.folder(request.folder_id)
        check_name("Image", request.name, self.cloud.images, folder_id)
        source = request.WhichOneof("source")
        if source == "uri":
            if not request.uri.startswith(STORAGE_URI_PREFIXES):
                raise invalid(
                    "uri",
                    "must be a link to an object in Yandex Object Storage (https://storage.yandexcloud.net/...)",
                )
            size = request.min_disk_size or 2 * GIB
        elif source == "disk_id":
            size = self.cloud.get(self.cloud.disks, "Disk", request.disk_id).size
        elif source == "image_id":
            size = self.cloud.get(self.cloud.images, "Image", request.image_id).min_disk_size
        elif source == "snapshot_id":
            raise not_found("Snapshot", request.snapshot_id)
        else:
            raise invalid("source", "one of uri, disk_id, image_id or snapshot_id is required")
        if request.min_disk_size and request.min_disk_size < size and source != "uri":
            raise invalid("min_disk_size", f"must be at least the source size {size}")
        image = image_pb2.Image(
            id=new_id("fd8"),
            folder_id=folder_id,
            created_at=now(),
            name=request.name,
            description=request.description,
            labels=dict(request.labels),
            family=request.family,
            size=size,
            storage_size=size,
            min_disk_size=max(request.min_disk_size, size),
            product_ids=list(request.product_ids),
            status=image_pb2.Image.READY,
            pooled=request.pooled,
        )
        if request.HasField("os"):
            image.os.CopyFrom(request.os)
        self.cloud.images[image.id] = image
        return finished(
            self.cloud,
            "Create image",
            image_service_pb2.CreateImageMetadata(image_id=image.id),
            image,
        )

    def Delete(self, request, context):  # noqa: N802
        image = self.cloud.get(self.cloud.images, "Image", request.image_id)
        if image.folder_id == config.STANDARD_IMAGES_FOLDER_ID:
            raise ApiError(
                grpc.StatusCode.PERMISSION_DENIED,
                f"Permission denied to delete public image {image.id}",
            )
        del self.cloud.images[image.id]
        return finished(
            self.cloud, "Delete image", image_service_pb2.DeleteImageMetadata(image_id=image.id)
        )
