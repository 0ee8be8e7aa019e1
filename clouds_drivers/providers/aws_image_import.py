"""An image file into an AMI: S3 PutObject (multipart when large), then VM Import's
ImportImage, then DescribeImportImageTasks until the task ends.

Each step is one call the Clouds worker makes and records, so a restarted worker resumes
at the step it reached (an import already started is polled, not started again).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from boto3.s3.transfer import TransferConfig
from botocore.exceptions import BotoCoreError, ClientError

from clouds_drivers.providers.aws import AwsProvider, cloud_error
from clouds_drivers.providers.base import Account, CloudError

#: Glance disk formats VM Import reads, by AWS's name for them.
FORMATS = {"raw": "RAW", "vmdk": "VMDK", "vhd": "VHD", "vhdx": "VHDX", "ova": "OVA"}
PART_SIZE = 64 * 1024**2
#: Import task states after which nothing changes.
ENDED = ("completed", "deleted", "deleting")


@dataclass(frozen=True)
class ImportStatus:
    state: str  # active, completed, deleting, deleted
    progress: int
    image_id: str | None
    message: str


class AwsImageImport:
    def __init__(self, provider: AwsProvider, account: Account) -> None:
        self.provider = provider
        self.s3 = provider.client("s3", account)
        self.ec2 = provider.client("ec2", account)

    def put(self, bucket: str, key: str, stream: Any, on_bytes: Callable[[int], None]) -> None:
        """Stream the file into the bucket; ``on_bytes`` hears how many bytes went since."""
        try:
            self.s3.upload_fileobj(stream, bucket, key, Callback=on_bytes, Config=TransferConfig(
                use_threads=False, multipart_threshold=PART_SIZE,
                multipart_chunksize=PART_SIZE))
        except (ClientError, BotoCoreError) as exc:
            error = cloud_error(exc, f"uploading to s3://{bucket}/{key}")
            if error.code == "NoSuchBucket":
                raise CloudError(f"{error}: the bucket must exist ([images] aws_bucket)",
                                 code=error.code, request_id=error.request_id) from None
            raise error from None

    def start(self, bucket: str, key: str, disk_format: str, description: str) -> str:
        """The import task's id."""
        answer = self.provider._call(
            f"importing s3://{bucket}/{key} as an AMI (ImportImage)", self.ec2.import_image,
            Description=description[:255],
            DiskContainers=[{"Format": FORMATS[disk_format],
                             "UserBucket": {"S3Bucket": bucket, "S3Key": key}}])
        return answer["ImportTaskId"]

    def status(self, task_id: str) -> ImportStatus:
        answer = self.provider._call(f"reading import task {task_id}",
                                     self.ec2.describe_import_image_tasks,
                                     ImportTaskIds=[task_id])
        tasks = answer.get("ImportImageTasks") or []
        if not tasks:
            raise CloudError(f"import task {task_id} is unknown to AWS", not_found=True)
        task = tasks[0]
        return ImportStatus(state=task.get("Status", "active"),
                            progress=int(task.get("Progress") or 0),
                            image_id=task.get("ImageId"),
                            message=task.get("StatusMessage", ""))
