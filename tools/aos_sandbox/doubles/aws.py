"""Launcher for the AWS double: moto's server plus a test-only ImportImage extension.

moto (5.x) has no ImportImage / DescribeImportImageTasks, but the hybrid-cloud module uploads
an image to S3 and imports it as an AMI.  This module patches moto's EC2 responses before the
server starts, so the import path can be exercised against the same process that serves EC2
and S3.  An import task completes at once and registers a real moto AMI, which RunInstances
then accepts.  Runs inside state_dir/venv-doubles:

    python -m doubles.aws --port 15000
"""

from __future__ import annotations

import argparse
import os
import random
from typing import Any

VALIDATION_FLAGS = (
    "MOTO_ENABLE_AMI_VALIDATION",
    "MOTO_EC2_ENABLE_INSTANCE_TYPE_VALIDATION",
    "MOTO_ENABLE_KEYPAIR_VALIDATION",
)
DISK_FORMATS = ("OVA", "VHD", "VHDX", "VMDK", "RAW")


def _random_task_id() -> str:
    return "import-ami-" + "".join(random.choice("0123456789abcdef") for _ in range(17))


def _disk_format(container: dict[str, Any], key: str) -> str:
    """AWS infers the format from the file name when Format is omitted."""
    fmt = (container.get("Format") or "").upper()
    if not fmt:
        ext = key.rsplit(".", 1)[-1].upper() if "." in key else ""
        fmt = {"IMG": "RAW", "QCOW2": ""}.get(ext, ext)
    if fmt not in DISK_FORMATS:
        from moto.ec2.exceptions import InvalidParameterValueError

        raise InvalidParameterValueError(f"'{fmt or key}' (disk format)")
    return fmt


def _s3_location(container: dict[str, Any]) -> tuple[str, str]:
    from moto.ec2.exceptions import InvalidParameterValueError, MissingParameterError

    bucket_spec = container.get("UserBucket") or {}
    bucket, key = bucket_spec.get("S3Bucket"), bucket_spec.get("S3Key")
    url = container.get("Url") or ""
    if not (bucket and key) and url.startswith("s3://"):
        bucket, _, key = url[len("s3://") :].partition("/")
    if container.get("SnapshotId"):
        raise InvalidParameterValueError("SnapshotId (only S3 disk containers are supported here)")
    if not (bucket and key):
        raise MissingParameterError("DiskContainer.UserBucket.S3Bucket/S3Key")
    return bucket, key


def _s3_object_size(account_id: str, bucket: str, key: str) -> int:
    """Size of the object in moto's S3, or an AWS-style error when it cannot be read."""
    from moto.ec2.exceptions import EC2ClientError
    from moto.s3.models import s3_backends

    try:
        obj = s3_backends[account_id]["aws"].get_object(bucket, key)
    except Exception:  # moto raises MissingBucket and friends
        obj = None
    if obj is None:
        raise EC2ClientError(
            "InvalidParameter",
            f"The service role vmimport or the S3 object s3://{bucket}/{key} is not accessible: "
            "the object does not exist",
        )
    return int(obj.size)


def _tasks(backend: Any) -> dict[str, dict[str, Any]]:
    """Import tasks live on the moto EC2 backend so /moto-api/reset clears them too."""
    if not hasattr(backend, "aos_import_image_tasks"):
        backend.aos_import_image_tasks = {}
    return backend.aos_import_image_tasks


def import_image(self: Any) -> Any:
    """EC2 ImportImage: validate the S3 object, register an AMI, record a completed task."""
    from moto.core.responses import ActionResult
    from moto.ec2.exceptions import MissingParameterError
    from moto.ec2.models.amis import Ami
    from moto.ec2.utils import random_ami_id

    containers = self._get_param("DiskContainers", [])
    self.error_on_dryrun()
    if not containers:
        raise MissingParameterError("DiskContainers")
    backend = self.ec2_backend
    details = []
    for container in containers:
        bucket, key = _s3_location(container)
        fmt = _disk_format(container, key)
        size = _s3_object_size(self.current_account, bucket, key)
        details.append(
            {
                "Description": container.get("Description", ""),
                "DeviceName": container.get("DeviceName", "/dev/sda1"),
                "DiskImageSize": float(size),
                "Format": fmt,
                "UserBucket": {"S3Bucket": bucket, "S3Key": key},
            }
        )
    task_id = _random_task_id()
    architecture = self._get_param("Architecture") or "x86_64"
    platform = self._get_param("Platform") or "Linux"
    boot_mode = self._get_param("BootMode") or "legacy-bios"
    description = self._get_param("Description") or ""
    ami_id = random_ami_id()
    ami = Ami(
        backend,
        ami_id,
        name=task_id,
        description=description or f"AMI imported by {task_id}",
        architecture=architecture,
        virtualization_type="hvm",
        platform="windows" if platform.lower() == "windows" else None,
        root_device_type="ebs",
        root_device_name=details[0]["DeviceName"],
        boot_mode=boot_mode,
        region_name=self.region + "a",
        snapshot_description=f"Created by AWS-VMImport service for {task_id}",
    )
    backend.amis[ami_id] = ami
    for detail in details:
        detail.update(SnapshotId=ami.ebs_snapshot.id, Status="completed")
    task = {
        "ImportTaskId": task_id,
        "Architecture": architecture,
        "Description": description,
        "Platform": platform,
        "BootMode": boot_mode,
        "LicenseType": self._get_param("LicenseType") or "BYOL",
        "Encrypted": bool(self._get_param("Encrypted", False)),
        "SnapshotDetails": details,
        "ImageId": ami_id,
        "Status": "completed",
    }
    _tasks(backend)[task_id] = task
    # Like AWS, the immediate answer shows a task that has only just started.
    started = {k: v for k, v in task.items() if k not in ("ImageId", "BootMode")}
    started.update(Status="active", StatusMessage="pending", Progress="1")
    started["SnapshotDetails"] = [
        {k: v for k, v in d.items() if k != "SnapshotId"} | {"Status": "active"} for d in details
    ]
    return ActionResult(started)


def describe_import_image_tasks(self: Any) -> Any:
    """EC2 DescribeImportImageTasks over the tasks recorded by import_image."""
    from moto.core.responses import ActionResult
    from moto.ec2.exceptions import EC2ClientError

    wanted = self._get_param("ImportTaskIds", [])
    self.error_on_dryrun()
    tasks = _tasks(self.ec2_backend)
    for task_id in wanted:
        if task_id not in tasks:
            raise EC2ClientError(
                "InvalidConversionTaskId", f"The conversion task ID '{task_id}' does not exist"
            )
    selected = [tasks[t] for t in wanted] if wanted else list(tasks.values())
    return ActionResult({"ImportImageTasks": selected})


#: AMIs the double knows besides moto's own: the one the Clouds documentation registers.
EXTRA_AMIS = {
    "us-east-2": [
        {
            "ami_id": "ami-0f7919c33c90f5b58",
            "name": "amzn2-ami-hvm-2.0.20191116.0-x86_64-gp2",
            "description": "Amazon Linux 2 AMI 2.0.20191116.0 x86_64 HVM gp2",
            "owner_id": "137112412989",
            "owner_alias": "amazon",
            "public": True,
            "architecture": "x86_64",
            "virtualization_type": "hvm",
            "hypervisor": "xen",
            "root_device_type": "ebs",
            "root_device_name": "/dev/xvda",
            "image_location": "amazon/amzn2-ami-hvm-2.0.20191116.0-x86_64-gp2",
            "region_name": "us-east-2a",
        }
    ]
}

#: Key pairs STS accepts (GetCallerIdentity, GetSessionToken): the sandbox's own and the AWS
#: documentation's example that the Clouds guide types. Any other key id is unknown to AWS,
#: any other secret fails the signature, as on AWS; other services accept any key as before.
KNOWN_KEYS = {
    "testing": "testing",
    "AKIAIOSFODNN7EXAMPLE": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
}


#: Buckets of Glance's cloud stores (glance-api.conf names them): the aws store's in the AWS
#: region, the yandex store's for Yandex Object Storage, which this double serves as well.
AWS_BUCKET = "aos-sandbox-aws-images"
YANDEX_BUCKET = "aos-sandbox-yandex-images"
BUCKETS = {AWS_BUCKET: "us-east-2", YANDEX_BUCKET: "us-east-1"}
#: The static Object Storage key of spec 000's example (moto's S3 takes any key).
YANDEX_STORAGE_KEY = ("gUC7Dgk2ckZJTJ-2G7fm", "m0BLkc8smdvqrQvuZzjxSEQoxLYkxxUxjAawcBfA")


def create_buckets() -> None:
    """Glance's buckets, in moto's default account (the one every key of the sandbox uses)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends

    backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
    for bucket, region in BUCKETS.items():
        backend.create_bucket(bucket, region)


def _load_extra_amis(original: Any) -> Any:
    def load(self: Any) -> None:
        original(self)
        from moto.ec2.models.amis import Ami

        for ami in EXTRA_AMIS.get(getattr(self, "region_name", ""), []):
            self.amis[ami["ami_id"]] = Ami(self, **ami)

    return load


def _check_known_key(response: Any) -> None:
    """Verify the request's SigV4 signature against KNOWN_KEYS (moto's own signer check)."""
    from botocore.credentials import Credentials
    from moto.core.exceptions import InvalidClientTokenIdError
    from moto.iam.access_control import IAMRequest

    if "X-Amz-Security-Token" in response.headers:  # session credentials issued here
        return

    class KnownKeyRequest(IAMRequest):
        def _raise_invalid_access_key(self, _reason: str) -> None:
            key_id = self._get_string_between(
                "Credential=", ",", self._headers["Authorization"]).split("/")[0]
            if key_id not in KNOWN_KEYS:
                raise InvalidClientTokenIdError()
            secret = KNOWN_KEYS[key_id]
            self._access_key = type("Key", (), {
                "create_credentials": staticmethod(lambda: Credentials(key_id, secret))})()

    from urllib.parse import urlparse

    path = response.raw_path
    query = urlparse(response.uri).query
    if query:
        path += "?" + query
    KnownKeyRequest(
        account_id=response.current_account, method=response.method, path=path,
        data=response.data, body=response.raw_body, headers=response.headers,
        action=response._get_action(),
    ).check_signature()


def _with_key_check(action: Any) -> Any:
    def checked(self: Any) -> Any:
        _check_known_key(self)
        return action(self)

    return checked


def patch_moto() -> None:
    """Teach moto's EC2 responder the two import actions (dispatch is by method name), the
    extra AMIs, and STS's key check."""
    from moto.ec2.models.amis import AmiBackend
    from moto.ec2.responses import EC2Response
    from moto.sts.responses import TokenResponse

    EC2Response.import_image = import_image
    EC2Response.describe_import_image_tasks = describe_import_image_tasks
    AmiBackend._load_amis = _load_extra_amis(AmiBackend._load_amis)
    for name in ("get_caller_identity", "get_session_token"):
        setattr(TokenResponse, name, _with_key_check(getattr(TokenResponse, name)))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=15000)
    args = parser.parse_args(argv)
    for flag in VALIDATION_FLAGS:
        os.environ[flag] = "true"
    patch_moto()
    create_buckets()
    from moto.server import main as moto_main

    moto_main(["-H", args.host, "-p", str(args.port)])


if __name__ == "__main__":
    main()
