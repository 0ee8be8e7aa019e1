"""Yandex.Cloud: Compute's image create from an Object Storage object, then its operation.

Object Storage takes a static access key (Yandex issues no short-lived S3 keys); Compute is
called with the account's IAM token. Yandex Compute reads the object at its public storage
address, whichever endpoint the file was uploaded through.
"""

from __future__ import annotations

import grpc
from yandex.cloud.compute.v1 import image_pb2, image_service_pb2
from yandex.cloud.compute.v1.image_service_pb2_grpc import ImageServiceStub
from yandex.cloud.operation import operation_service_pb2
from yandex.cloud.operation.operation_service_pb2_grpc import OperationServiceStub

from clouds_drivers.providers import aws
from clouds_drivers.providers.base import Account, CloudError
from clouds_drivers.providers.image_import import ImageImport, ImportStatus
from clouds_drivers.providers.yandex import YandexProvider, cloud_error

#: Where Yandex Compute reads imported images from.
STORAGE_URL = "https://storage.yandexcloud.net"


class YandexImageImport(ImageImport):
    FORMATS = {"qcow2": "qcow2", "vmdk": "vmdk", "vhd": "vhd", "vhdx": "vhdx"}

    def __init__(self, provider: YandexProvider, account: Account, storage_endpoint: str,
                 access_key_id: str, secret_access_key: str) -> None:
        self.provider = provider
        self.folder_id = account.options.get("folder_id", "")
        self.sdk = provider.sdk_for(account)
        self.timeout = provider.settings.timeout
        self.s3 = aws.AwsProvider(aws.Settings(endpoint_url=storage_endpoint)).client(
            "s3", Account(provider="yandex", zone="", region="ru-central1", secrets={
                "access_key": access_key_id, "secret_key": secret_access_key}))

    def start(self, bucket: str, key: str, disk_format: str, name: str,
              description: str) -> str:
        request = image_service_pb2.CreateImageRequest(
            folder_id=self.folder_id, name=name, description=description[:256],
            uri=f"{STORAGE_URL}/{bucket}/{key}")
        try:
            operation = self.sdk.client(ImageServiceStub).Create(request, timeout=self.timeout)
        except grpc.RpcError as exc:
            raise cloud_error(exc, f"creating an image from {request.uri}") from None
        return operation.id

    def status(self, task_id: str) -> ImportStatus:
        try:
            operation = self.sdk.client(OperationServiceStub).Get(
                operation_service_pb2.GetOperationRequest(operation_id=task_id),
                timeout=self.timeout)
        except grpc.RpcError as exc:
            raise cloud_error(exc, f"reading operation {task_id}") from None
        if not operation.done:
            return ImportStatus(ended=False, progress=0, image_id=None)
        if operation.HasField("error"):
            return ImportStatus(ended=True, progress=100, image_id=None,
                                message=f"{operation.error.message} (code {operation.error.code})")
        image = image_pb2.Image()
        if not operation.response.Unpack(image):
            raise CloudError(f"operation {task_id} did not answer with an image")
        return ImportStatus(ended=True, progress=100, image_id=image.id)
