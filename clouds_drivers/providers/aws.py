"""AWS through boto3: botocore's standard retry mode, a timeout on every call.

``endpoint_url`` reaches another implementation of the AWS APIs (the sandbox's moto server);
unset, boto3 finds the real regional endpoints.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

from clouds_drivers.providers.base import (
    Account,
    CloudError,
    CloudImage,
    Identity,
    InstanceType,
    Provider,
    ShortLivedCredentials,
)

NAME = "aws"
#: Resource-map kind → (paginated EC2 listing, its result key, id field, extra arguments).
LISTINGS: dict[str, tuple[str, str, str, dict[str, Any]]] = {
    "volume": ("describe_volumes", "Volumes", "VolumeId", {"MaxResults": 500}),
    "image": ("describe_images", "Images", "ImageId", {"Owners": ["self"], "MaxResults": 1000}),
    "network": ("describe_vpcs", "Vpcs", "VpcId", {"MaxResults": 1000}),
    "subnet": ("describe_subnets", "Subnets", "SubnetId", {"MaxResults": 1000}),
    "router": ("describe_internet_gateways", "InternetGateways", "InternetGatewayId",
               {"MaxResults": 1000}),
}
# DescribeInstanceTypes takes at most 100 names per call.
TYPES_PER_CALL = 100

# Error codes whose meaning names the wrong part of the caller's input.
_FIELD_OF_CODE = {
    "InvalidClientTokenId": ("access_key", "AWS does not know the access key"),
    "UnrecognizedClientException": ("access_key", "AWS does not know the access key"),
    "AuthFailure": ("access_key", "AWS rejected the access key or secret key"),
    "SignatureDoesNotMatch": ("secret_key", "the secret key does not match the access key"),
    "InvalidAMIID.NotFound": ("cloud_image_id", "no such AMI"),
    "InvalidAMIID.Malformed": ("cloud_image_id", "malformed AMI id"),
    "InvalidAMIID.Unavailable": ("cloud_image_id", "the AMI is not available"),
}


@dataclass(frozen=True)
class Settings:
    endpoint_url: str | None = None
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    max_attempts: int = 3
    session_duration: int = 3600


def cloud_error(exc: Exception, doing: str) -> CloudError:
    """A botocore failure as one line with AWS's code, message and request id."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = error.get("Code", "")
        message = error.get("Message") or code
        request_id = exc.response.get("ResponseMetadata", {}).get("RequestId")
        field, meaning = _FIELD_OF_CODE.get(code, (None, None))
        text = f"{doing}: {meaning}: {code}: {message}" if meaning else \
            f"{doing}: {code}: {message}"
        return CloudError(text, field=field, request_id=request_id, code=code,
                          not_found=code.endswith(".NotFound") or code.endswith(".Malformed"))
    if isinstance(exc, EndpointConnectionError):
        return CloudError(f"{doing}: cannot reach AWS at {exc.kwargs.get('endpoint_url')}")
    return CloudError(f"{doing}: {exc}")


class AwsProvider(Provider):
    name = NAME

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        self._config = Config(
            retries={"mode": "standard", "max_attempts": self.settings.max_attempts},
            connect_timeout=self.settings.connect_timeout,
            read_timeout=self.settings.read_timeout,
        )

    # --- clients --------------------------------------------------------------------------

    def client(self, service: str, account: Account, region: str | None = None) -> Any:
        """A boto3 client of ``service`` with the account's keys (session token if any)."""
        secrets = account.secrets
        return boto3.session.Session().client(
            service,
            region_name=region or account.region,
            aws_access_key_id=secrets.get("access_key"),
            aws_secret_access_key=secrets.get("secret_key"),
            aws_session_token=secrets.get("session_token"),
            endpoint_url=self.settings.endpoint_url,
            config=self._config,
        )

    def _call(self, doing: str, method: Any, **kwargs: Any) -> dict[str, Any]:
        try:
            return method(**kwargs)
        except (ClientError, BotoCoreError) as exc:
            raise cloud_error(exc, doing) from None

    def _pages(self, doing: str, client: Any, operation: str, **kwargs: Any
               ) -> Iterator[dict[str, Any]]:
        try:
            yield from client.get_paginator(operation).paginate(**kwargs)
        except (ClientError, BotoCoreError) as exc:
            raise cloud_error(exc, doing) from None

    # --- the contract ---------------------------------------------------------------------

    def validate(self, account: Account) -> Identity:
        region, zone = account.region or "", account.zone
        if region not in known_regions():
            raise CloudError(f"unknown AWS region {region!r}", field="region")
        sts = self.client("sts", account)
        who = self._call("checking the AWS keys (STS GetCallerIdentity)",
                         sts.get_caller_identity)
        ec2 = self.client("ec2", account)
        zones = self._call(f"listing the availability zones of {region}",
                           ec2.describe_availability_zones)["AvailabilityZones"]
        names = sorted(z["ZoneName"] for z in zones)
        if zone not in names:
            raise CloudError(f"availability zone {zone!r} is not in region {region} "
                             f"(zones: {', '.join(names)})", field="az")
        return Identity(who["Arn"], {"account": who["Account"], "user_id": who["UserId"]})

    def issue_credentials(self, account: Account) -> ShortLivedCredentials:
        sts = self.client("sts", account)
        answer = self._call("issuing session credentials (STS GetSessionToken)",
                            sts.get_session_token,
                            DurationSeconds=self.settings.session_duration)
        creds = answer["Credentials"]
        return ShortLivedCredentials(
            provider=NAME,
            expires_at=creds["Expiration"],
            secrets={"access_key": creds["AccessKeyId"], "secret_key": creds["SecretAccessKey"],
                     "session_token": creds["SessionToken"]},
        )

    def describe_image(self, account: Account, image_id: str) -> CloudImage:
        ec2 = self.client("ec2", account)
        doing = f"looking up AMI {image_id} in {account.region}"
        images = self._call(doing, ec2.describe_images, ImageIds=[image_id])["Images"]
        if not images:
            raise CloudError(f"{doing}: no such AMI", field="cloud_image_id", not_found=True)
        return image_of(images[0])

    def instance_types(self, account: Account) -> list[InstanceType]:
        ec2 = self.client("ec2", account)
        offered = sorted({
            offer["InstanceType"]
            for page in self._pages(
                f"listing the instance types offered in {account.zone}", ec2,
                "describe_instance_type_offerings", LocationType="availability-zone",
                Filters=[{"Name": "location", "Values": [account.zone]}])
            for offer in page["InstanceTypeOfferings"]
        })
        found: list[InstanceType] = []
        for batch in _batches(offered, TYPES_PER_CALL):
            for page in self._pages("describing instance types", ec2, "describe_instance_types",
                                    InstanceTypes=batch):
                found += [instance_type_of(item) for item in page["InstanceTypes"]]
        return sorted(found, key=lambda t: t.name)

    def existing(self, account: Account, kind: str) -> set[str] | None:
        ec2 = self.client("ec2", account)
        doing = f"listing the {kind}s of {account.region}"
        if kind == "instance":
            return {item["InstanceId"]
                    for page in self._pages(doing, ec2, "describe_instances", MaxResults=1000)
                    for reservation in page["Reservations"]
                    for item in reservation["Instances"]
                    if item["State"]["Name"] not in ("terminated", "shutting-down")}
        if kind == "floating_ip":
            addresses = self._call(doing, ec2.describe_addresses)["Addresses"]
            return {a.get("AllocationId") or a["PublicIp"] for a in addresses}
        if kind not in LISTINGS:
            return None
        operation, key, id_field, kwargs = LISTINGS[kind]
        return {item[id_field] for page in self._pages(doing, ec2, operation, **kwargs)
                for item in page[key]}


def known_regions() -> set[str]:
    """Every EC2 region botocore knows, across partitions (no call to AWS)."""
    session = boto3.session.Session()
    return {region for partition in session.get_available_partitions()
            for region in session.get_available_regions("ec2", partition_name=partition)}


def image_of(image: dict[str, Any]) -> CloudImage:
    """An EC2 DescribeImages entry as a CloudImage; min disk is the root volume's size."""
    root = image.get("RootDeviceName")
    sizes = [m["Ebs"]["VolumeSize"] for m in image.get("BlockDeviceMappings", [])
             if "Ebs" in m and m["Ebs"].get("VolumeSize") and m.get("DeviceName") == root]
    return CloudImage(
        id=image["ImageId"],
        name=image.get("Name") or image["ImageId"],
        architecture=image.get("Architecture", "x86_64"),
        min_disk_gb=int(sizes[0]) if sizes else 0,
        description=image.get("Description") or "",
    )


def instance_type_of(item: dict[str, Any]) -> InstanceType:
    return InstanceType(
        name=item["InstanceType"],
        vcpus=int(item["VCpuInfo"]["DefaultVCpus"]),
        ram_mb=int(item["MemoryInfo"]["SizeInMiB"]),
        architectures=tuple(item.get("ProcessorInfo", {}).get("SupportedArchitectures", ())),
    )


def _batches(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
