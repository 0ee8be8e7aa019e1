"""AWS: VM Import's ImportImage of an S3 object, then DescribeImportImageTasks."""

from __future__ import annotations

from clouds_drivers.providers.aws import AwsProvider
from clouds_drivers.providers.base import Account, CloudError
from clouds_drivers.providers.image_import import ImageImport, ImportStatus

#: Import task states after which nothing changes.
ENDED = ("completed", "deleted", "deleting")


class AwsImageImport(ImageImport):
    FORMATS = {"raw": "RAW", "vmdk": "VMDK", "vhd": "VHD", "vhdx": "VHDX", "ova": "OVA"}

    def __init__(self, provider: AwsProvider, account: Account) -> None:
        self.provider = provider
        self.s3 = provider.client("s3", account)
        self.ec2 = provider.client("ec2", account)

    def start(self, bucket: str, key: str, disk_format: str, name: str,
              description: str) -> str:
        answer = self.provider._call(
            f"importing s3://{bucket}/{key} as an AMI (ImportImage)", self.ec2.import_image,
            Description=description[:255],
            DiskContainers=[{"Format": self.FORMATS[disk_format],
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
        state = task.get("Status", "active")
        image_id = task.get("ImageId") if state == "completed" else None
        message = task.get("StatusMessage") or ("" if image_id else f"the task is {state}")
        return ImportStatus(ended=state in ENDED, progress=int(task.get("Progress") or 0),
                            image_id=image_id, message=message)
