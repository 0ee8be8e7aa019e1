"""Yandex.Cloud through the ``yandexcloud`` SDK, used unmodified.

``endpoint`` and ``root_certificates`` reach another implementation of the API (the sandbox's
gRPC double); the defaults are Yandex.Cloud's public endpoint and the system trust store.
Every call carries a gRPC deadline, endpoint discovery included (through the channel's
service config, since the SDK's discovery call takes no timeout).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from typing import Any

import grpc
import yandexcloud
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from yandex.cloud.compute.v1 import image_service_pb2, zone_service_pb2
from yandex.cloud.compute.v1.image_service_pb2_grpc import ImageServiceStub
from yandex.cloud.compute.v1.zone_service_pb2_grpc import ZoneServiceStub
from yandex.cloud.iam.v1.iam_token_service_pb2_grpc import IamTokenServiceStub
from yandexcloud._auth_fabric import ServiceAccountAuth
from yandexcloud._retry_policy import RetryPolicy
from yandexcloud.operations import OperationError

from clouds_drivers.providers.base import (
    Account,
    CloudError,
    CloudImage,
    Identity,
    InstanceType,
    Provider,
    ShortLivedCredentials,
    gib_ceil,
)

NAME = "yandex"
DEFAULT_ENDPOINT = "api.cloud.yandex.net:443"
GIB_MB = 1024

#: The machine presets Yandex Compute sells: platform → (short code, cores, GiB per core).
#: Yandex has no API listing them; this is the public price list's grid.
PRESETS: dict[str, tuple[str, tuple[int, ...], tuple[int, ...]]] = {
    "standard-v2": ("s2", (2, 4, 8, 16, 32), (1, 2, 4)),
    "standard-v3": ("s3", (2, 4, 8, 16, 32), (1, 2, 4)),
}


@dataclass(frozen=True)
class Settings:
    endpoint: str = DEFAULT_ENDPOINT
    root_certificates: bytes | None = None
    timeout: float = 30.0


class _Deadlines(RetryPolicy):
    """The SDK's retry policy plus a deadline for every call on its channels."""

    def __init__(self, timeout: float) -> None:
        super().__init__(max_attempts=3)
        self._timeout = timeout

    def to_json(self) -> str:
        policy = json.loads(super().to_json())
        for method in policy["methodConfig"]:
            method["timeout"] = f"{self._timeout:g}s"
            method["waitForReady"] = False
        return json.dumps(policy)


def normalize_private_key(text: str) -> str:
    """The key as the PKCS#8 PEM the SDK signs with; CloudError naming private_key if not."""
    try:
        key = serialization.load_pem_private_key(text.encode(), password=None)
    except (ValueError, TypeError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CloudError(f"the private key is not an unencrypted PEM private key ({reason})",
                         field="private_key") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise CloudError("the private key must be an RSA key (Yandex signs with PS256)",
                         field="private_key")
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def cloud_error(exc: grpc.RpcError, doing: str, field: str | None = None) -> CloudError:
    code = exc.code() if hasattr(exc, "code") else None
    details = exc.details() if hasattr(exc, "details") else str(exc)
    metadata = dict(exc.trailing_metadata() or ()) if hasattr(exc, "trailing_metadata") else {}
    request_id = metadata.get("x-request-id") or metadata.get("x-server-request-id")
    name = code.name if code is not None else "ERROR"
    return CloudError(f"{doing}: {name}: {details}", field=field, request_id=request_id,
                      code=name, not_found=code == grpc.StatusCode.NOT_FOUND)


class FolderApi:
    """Calls in one folder with the account's short-lived IAM token (a driver's account):
    each bounded by the provider's timeout, an operation waited for up to ten of them."""

    def __init__(self, provider: YandexProvider, account: Account) -> None:
        self.provider = provider
        self.folder_id = account.options.get("folder_id", "")
        self.sdk = provider._sdk(iam_token=account.secrets["iam_token"])
        self.timeout = provider.settings.timeout

    def _call(self, doing: str, method: Callable[..., Any], request: Any) -> Any:
        try:
            return method(request, timeout=self.timeout)
        except grpc.RpcError as exc:
            raise cloud_error(exc, doing) from None

    def _operation(self, doing: str, method: Callable[..., Any], request: Any,
                   response_type: Any = None,
                   started: Callable[[Any], None] | None = None) -> Any:
        """Call, hand the operation to ``started`` (if given), wait for its result."""
        operation = self._call(doing, method, request)
        if started is not None:
            started(operation)
        try:
            return self.sdk.wait_operation_and_get_result(
                operation, response_type=response_type, timeout=self.timeout * 10).response
        except OperationError as exc:
            raise CloudError(f"{doing}: {exc}") from None
        except grpc.RpcError as exc:
            raise cloud_error(exc, doing) from None


class YandexProvider(Provider):
    name = NAME

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()

    def _key(self, account: Account) -> dict[str, str]:
        secrets = account.secrets
        return {
            "id": secrets["key_id"],
            "service_account_id": secrets["service_account_id"],
            "private_key": normalize_private_key(secrets["private_key"]),
        }

    def _sdk(self, **auth: Any) -> yandexcloud.SDK:
        return yandexcloud.SDK(endpoint=self.settings.endpoint,
                               root_certificates=self.settings.root_certificates,
                               retry_policy=_Deadlines(self.settings.timeout), **auth)

    def _iam_token(self, account: Account) -> tuple[yandexcloud.SDK, Any]:
        """Exchange the service-account key for an IAM token; an SDK that uses the token.

        A driver's account holds a short-lived IAM token already: used as it is (no answer).
        """
        if "iam_token" in account.secrets:
            return self._sdk(iam_token=account.secrets["iam_token"]), None
        key = self._key(account)
        request = ServiceAccountAuth(key, self.settings.endpoint.rsplit(":", 1)[0]
                                     ).get_token_request()
        try:
            answer = self._sdk(service_account_key=key).client(IamTokenServiceStub).Create(
                request, timeout=self.settings.timeout)
        except grpc.RpcError as exc:
            raise cloud_error(
                exc, "Yandex IAM refused the service account key (check --service-account-id, "
                "--key-id and --private-key)", field="service_account_key") from None
        return self._sdk(iam_token=answer.iam_token), answer

    def sdk_for(self, account: Account) -> yandexcloud.SDK:
        """An SDK acting with the account's short-lived IAM token (a driver's), or with one
        exchanged for its service-account key (the Clouds service's)."""
        return self._iam_token(account)[0]

    def validate(self, account: Account) -> Identity:
        sdk, _ = self._iam_token(account)
        folder_id, zone = account.options.get("folder_id", ""), account.zone
        try:
            sdk.client(ZoneServiceStub).Get(zone_service_pb2.GetZoneRequest(zone_id=zone),
                                            timeout=self.settings.timeout)
        except grpc.RpcError as exc:
            raise cloud_error(exc, f"availability zone {zone!r} is unknown to Yandex.Cloud",
                              field="az") from None
        try:
            sdk.client(ImageServiceStub).List(
                image_service_pb2.ListImagesRequest(folder_id=folder_id, page_size=1),
                timeout=self.settings.timeout)
        except grpc.RpcError as exc:
            raise cloud_error(exc, f"folder {folder_id!r} does not exist or the service "
                              "account cannot use it", field="folder_id") from None
        return Identity(account.secrets["service_account_id"], {"folder_id": folder_id})

    def issue_credentials(self, account: Account) -> ShortLivedCredentials:
        _, answer = self._iam_token(account)
        return ShortLivedCredentials(
            provider=NAME,
            expires_at=answer.expires_at.ToDatetime(tzinfo=UTC),
            secrets={"iam_token": answer.iam_token},
        )

    def describe_image(self, account: Account, image_id: str) -> CloudImage:
        sdk, _ = self._iam_token(account)
        try:
            image = sdk.client(ImageServiceStub).Get(
                image_service_pb2.GetImageRequest(image_id=image_id),
                timeout=self.settings.timeout)
        except grpc.RpcError as exc:
            raise cloud_error(exc, f"looking up image {image_id}",
                              field="cloud_image_id") from None
        return CloudImage(id=image.id, name=image.name or image.id, architecture="x86_64",
                          min_disk_gb=gib_ceil(image.min_disk_size),
                          description=image.description)

    def delete_image(self, account: Account, image_id: str) -> None:
        sdk, _ = self._iam_token(account)
        doing = f"deleting image {image_id}"
        try:
            operation = sdk.client(ImageServiceStub).Delete(
                image_service_pb2.DeleteImageRequest(image_id=image_id),
                timeout=self.settings.timeout)
            sdk.wait_operation_and_get_result(operation, timeout=self.settings.timeout * 10)
        except grpc.RpcError as exc:
            error = cloud_error(exc, doing)
            if not error.not_found:
                raise error from None
        except OperationError as exc:
            raise CloudError(f"{doing}: {exc}") from None

    def instance_types(self, account: Account) -> list[InstanceType]:
        return preset_types()

    def existing(self, account: Account, kind: str) -> set[str] | None:
        if kind not in FOLDER_LISTINGS:
            return None
        stub_ctor, request_type, field = FOLDER_LISTINGS[kind]()
        sdk, _ = self._iam_token(account)
        client, found, token = sdk.client(stub_ctor), set(), ""
        folder_id = account.options.get("folder_id", "")
        while True:
            try:
                page = client.List(request_type(folder_id=folder_id, page_size=1000,
                                                page_token=token),
                                   timeout=self.settings.timeout)
            except grpc.RpcError as exc:
                raise cloud_error(exc, f"listing the {kind}s of folder {folder_id}") from None
            found.update(item.id for item in getattr(page, field))
            token = page.next_page_token
            if not token:
                return found


def _listing(module: str, stub: str, request: str, field: str) -> Any:
    """(stub class, list request class, response field) of one folder listing, imported late."""
    def load() -> tuple[Any, Any, str]:
        import importlib

        service = importlib.import_module(f"yandex.cloud.{module}_pb2")
        grpc_module = importlib.import_module(f"yandex.cloud.{module}_pb2_grpc")
        return getattr(grpc_module, stub), getattr(service, request), field

    return load


FOLDER_LISTINGS = {
    "instance": _listing("compute.v1.instance_service", "InstanceServiceStub",
                         "ListInstancesRequest", "instances"),
    "volume": _listing("compute.v1.disk_service", "DiskServiceStub", "ListDisksRequest",
                       "disks"),
    "snapshot": _listing("compute.v1.snapshot_service", "SnapshotServiceStub",
                         "ListSnapshotsRequest", "snapshots"),
    "image": _listing("compute.v1.image_service", "ImageServiceStub", "ListImagesRequest",
                      "images"),
    "network": _listing("vpc.v1.network_service", "NetworkServiceStub", "ListNetworksRequest",
                        "networks"),
    "subnet": _listing("vpc.v1.subnet_service", "SubnetServiceStub", "ListSubnetsRequest",
                       "subnets"),
    "floating_ip": _listing("vpc.v1.address_service", "AddressServiceStub",
                            "ListAddressesRequest", "addresses"),
    "router": _listing("vpc.v1.gateway_service", "GatewayServiceStub", "ListGatewaysRequest",
                       "gateways"),
}


def preset_types() -> list[InstanceType]:
    """Platform × cores × memory presets, named like Yandex's console (``s3-c2-m8``)."""
    types = [
        InstanceType(name=f"{code}-c{cores}-m{cores * per_core}", vcpus=cores,
                     ram_mb=cores * per_core * GIB_MB, architectures=("x86_64",),
                     details={"platform_id": platform, "cores": str(cores),
                              "memory_gb": str(cores * per_core)})
        for platform, (code, all_cores, per_core_gb) in PRESETS.items()
        for cores in all_cores for per_core in per_core_gb
    ]
    return sorted(types, key=lambda t: t.name)
