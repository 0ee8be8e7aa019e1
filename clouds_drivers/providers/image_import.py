"""An image file into a cloud image: the file into a bucket (S3, or Yandex Object Storage,
which speaks S3), then the cloud's import (AWS VM Import's ImportImage; Yandex Compute's
image create from the object), then its status until it ends.

Each step is one call the Clouds worker makes and records, so a restarted worker resumes at
the step it reached (an import already started is polled, not started again).
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from boto3.s3.transfer import TransferConfig
from botocore.exceptions import BotoCoreError, ClientError

from clouds_drivers.providers.aws import cloud_error
from clouds_drivers.providers.base import CloudError

PART_SIZE = 64 * 1024**2


@dataclass(frozen=True)
class ImportStatus:
    ended: bool
    progress: int
    image_id: str | None
    message: str = ""


class ImageImport(abc.ABC):
    """One cloud's import; ``s3`` reaches its object storage."""

    #: Glance disk formats the cloud imports, by the cloud's name for them.
    FORMATS: dict[str, str] = {}
    s3: Any

    def put(self, bucket: str, key: str, stream: Any, on_bytes: Callable[[int], None]) -> None:
        """Stream the file into the bucket; ``on_bytes`` hears how many bytes went since."""
        try:
            self.s3.upload_fileobj(stream, bucket, key, Callback=on_bytes, Config=TransferConfig(
                use_threads=False, multipart_threshold=PART_SIZE,
                multipart_chunksize=PART_SIZE))
        except (ClientError, BotoCoreError) as exc:
            error = cloud_error(exc, f"uploading to bucket {bucket} as {key}")
            if error.code == "NoSuchBucket":
                raise CloudError(f"{error}: the bucket must exist ([images] of clouds.conf)",
                                 code=error.code, request_id=error.request_id) from None
            raise error from None

    @abc.abstractmethod
    def start(self, bucket: str, key: str, disk_format: str, name: str,
              description: str) -> str:
        """The id of the import task (AWS) or operation (Yandex)."""

    @abc.abstractmethod
    def status(self, task_id: str) -> ImportStatus:
        """Where the import stands; a failed one has ended with no image and a message."""
