"""AWS through boto3: botocore's standard retry mode, a timeout on every call.

``endpoint_url`` reaches another implementation of the AWS APIs (the sandbox's moto server);
unset, boto3 finds the real regional endpoints.
"""

from __future__ import annotations

import threading
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
from clouds_drivers.providers.networks import DEFAULT_ROUTE, CloudAddresses, CloudNetworks

NAME = "aws"
#: Resource-map kind → (paginated EC2 listing, its result key, id field, extra arguments).
LISTINGS: dict[str, tuple[str, str, str, dict[str, Any]]] = {
    "volume": ("describe_volumes", "Volumes", "VolumeId", {"MaxResults": 500}),
    "snapshot": ("describe_snapshots", "Snapshots", "SnapshotId",
                 {"OwnerIds": ["self"], "MaxResults": 1000}),
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
        self._local = threading.local()
        self._config = Config(
            retries={"mode": "standard", "max_attempts": self.settings.max_attempts},
            connect_timeout=self.settings.connect_timeout,
            read_timeout=self.settings.read_timeout,
        )

    # --- clients --------------------------------------------------------------------------

    def _session(self) -> boto3.session.Session:
        """One boto3 session per thread (sessions are not thread-safe; their loaded service
        models make every later client cheap: ~0.9 s for the first, milliseconds after)."""
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = boto3.session.Session()
        return session

    def client(self, service: str, account: Account, region: str | None = None) -> Any:
        """A boto3 client of ``service`` with the account's keys (session token if any)."""
        secrets = account.secrets
        return self._session().client(
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

    def delete_image(self, account: Account, image_id: str) -> None:
        """Deregister the AMI, then delete the EBS snapshots it was made of (AWS keeps them)."""
        ec2 = self.client("ec2", account)
        doing = f"deleting AMI {image_id} in {account.region}"
        try:
            images = self._call(doing, ec2.describe_images, ImageIds=[image_id])["Images"]
        except CloudError as exc:
            if exc.not_found:
                return
            raise
        snapshots = [m["Ebs"]["SnapshotId"] for image in images
                     for m in image.get("BlockDeviceMappings", [])
                     if m.get("Ebs", {}).get("SnapshotId")]
        if images:
            self._call(doing, ec2.deregister_image, ImageId=image_id)
        for snapshot in snapshots:
            try:
                self._call(f"{doing}: its snapshot {snapshot}", ec2.delete_snapshot,
                           SnapshotId=snapshot)
            except CloudError as exc:
                if not exc.not_found:
                    raise

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
            # The status listing names each instance and its state in a tenth of the bytes
            # of DescribeInstances (bench/clouds_sync).
            return {item["InstanceId"]
                    for page in self._pages(doing, ec2, "describe_instance_status",
                                            IncludeAllInstances=True, MaxResults=1000)
                    for item in page["InstanceStatuses"]
                    if item["InstanceState"]["Name"] not in ("terminated", "shutting-down")}
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


# --- networks (the Neutron drivers) -----------------------------------------------------------

#: Codes that mean a detach/delete has nothing left to do.
ALREADY_DONE = {"Gateway.NotAttached"}


def tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in sorted(tags.items())]


class AwsNetworks(CloudNetworks):
    """VPCs, subnets and internet gateways of one account, for the Neutron drivers.

    Kept beside the Provider contract (not in it): the Clouds service itself never creates
    networks. Deleting what is already gone is not an error, so
    a retried or compensating delete is safe.
    """

    def __init__(self, provider: AwsProvider, account: Account) -> None:
        self.provider = provider
        self.ec2 = provider.client("ec2", account)

    def _call(self, doing: str, operation: str, **kwargs: Any) -> dict[str, Any]:
        return self.provider._call(doing, getattr(self.ec2, operation), **kwargs)

    def _gone_ok(self, doing: str, operation: str, **kwargs: Any) -> None:
        try:
            self._call(doing, operation, **kwargs)
        except CloudError as exc:
            if not (exc.not_found or exc.code in ALREADY_DONE):
                raise

    def zones(self) -> list[str]:
        answer = self._call("listing the availability zones", "describe_availability_zones")
        return sorted(z["ZoneName"] for z in answer["AvailabilityZones"])

    def create_vpc(self, cidr: str, tags: dict[str, str]) -> str:
        answer = self._call(f"creating a VPC {cidr}", "create_vpc", CidrBlock=cidr,
                            TagSpecifications=[{"ResourceType": "vpc",
                                                "Tags": tag_list(tags)}])
        return answer["Vpc"]["VpcId"]

    def delete_vpc(self, vpc_id: str) -> None:
        self._gone_ok(f"deleting VPC {vpc_id}", "delete_vpc", VpcId=vpc_id)

    def create_subnet(self, vpc_id: str, cidr: str, zone: str, tags: dict[str, str]) -> str:
        answer = self._call(f"creating subnet {cidr} in {vpc_id} ({zone})", "create_subnet",
                            VpcId=vpc_id, CidrBlock=cidr, AvailabilityZone=zone,
                            TagSpecifications=[{"ResourceType": "subnet",
                                                "Tags": tag_list(tags)}])
        return answer["Subnet"]["SubnetId"]

    def delete_subnet(self, subnet_id: str) -> None:
        self._gone_ok(f"deleting subnet {subnet_id}", "delete_subnet", SubnetId=subnet_id)

    def subnets_of(self, vpc_id: str) -> list[str]:
        answer = self._call(f"listing the subnets of {vpc_id}", "describe_subnets",
                            Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])
        return sorted(s["SubnetId"] for s in answer["Subnets"])

    def create_internet_gateway(self, tags: dict[str, str]) -> str:
        answer = self._call("creating an internet gateway", "create_internet_gateway",
                            TagSpecifications=[{"ResourceType": "internet-gateway",
                                                "Tags": tag_list(tags)}])
        return answer["InternetGateway"]["InternetGatewayId"]

    def delete_internet_gateway(self, igw_id: str) -> None:
        self._gone_ok(f"deleting internet gateway {igw_id}", "delete_internet_gateway",
                      InternetGatewayId=igw_id)

    def attached_vpcs(self, igw_id: str) -> list[str]:
        """The VPC the gateway is attached to, if any."""
        answer = self._call(f"looking up internet gateway {igw_id}",
                            "describe_internet_gateways", InternetGatewayIds=[igw_id])
        return [attachment["VpcId"] for gateway in answer["InternetGateways"]
                for attachment in gateway.get("Attachments", [])
                if attachment.get("State", "available") in ("available", "attached")]

    def _main_route_table(self, vpc_id: str) -> str:
        answer = self._call(f"finding the main route table of {vpc_id}",
                            "describe_route_tables",
                            Filters=[{"Name": "vpc-id", "Values": [vpc_id]},
                                     {"Name": "association.main", "Values": ["true"]}])
        tables = answer["RouteTables"]
        if not tables:
            raise CloudError(f"VPC {vpc_id} has no main route table")
        return tables[0]["RouteTableId"]

    def attach_internet_gateway(self, igw_id: str, vpc_id: str) -> None:
        """Attach and route 0.0.0.0/0 of the VPC's main table through the gateway."""
        self._call(f"attaching internet gateway {igw_id} to {vpc_id}",
                   "attach_internet_gateway", InternetGatewayId=igw_id, VpcId=vpc_id)
        try:
            self._call(f"adding the default route of {vpc_id} through {igw_id}",
                       "create_route", RouteTableId=self._main_route_table(vpc_id),
                       DestinationCidrBlock=DEFAULT_ROUTE, GatewayId=igw_id)
        except CloudError:
            self.detach_internet_gateway(igw_id, vpc_id, route=False)
            raise

    def detach_internet_gateway(self, igw_id: str, vpc_id: str, route: bool = True) -> None:
        """Remove the default route, then detach (AWS keeps a blackhole route otherwise)."""
        if route:
            self._gone_ok(f"removing the default route of {vpc_id}", "delete_route",
                          RouteTableId=self._main_route_table(vpc_id),
                          DestinationCidrBlock=DEFAULT_ROUTE)
        self._gone_ok(f"detaching internet gateway {igw_id} from {vpc_id}",
                      "detach_internet_gateway", InternetGatewayId=igw_id, VpcId=vpc_id)


class AwsAddresses(CloudAddresses):
    """Elastic IPs of one account, for the Neutron router plugin's floating IPs.

    The address is the floating IP's own (the external network holds the account's pool,
    as the install guide asks); releasing what is already gone is not an error.
    """

    def __init__(self, provider: AwsProvider, account: Account) -> None:
        self.provider = provider
        self.ec2 = provider.client("ec2", account)

    def _call(self, doing: str, operation: str, **kwargs: Any) -> dict[str, Any]:
        return self.provider._call(doing, getattr(self.ec2, operation), **kwargs)

    def associate(self, address: str, instance_id: str, private_ip: str | None,
                  tags: dict[str, str]) -> str:
        """Allocate Elastic IP ``address`` and associate it; its allocation id."""
        answer = self._call(f"allocating Elastic IP {address}", "allocate_address",
                            Domain="vpc", Address=address,
                            TagSpecifications=[{"ResourceType": "elastic-ip",
                                                "Tags": tag_list(tags)}])
        allocation = answer["AllocationId"]
        kwargs: dict[str, Any] = {"AllocationId": allocation, "InstanceId": instance_id}
        if private_ip:
            kwargs["PrivateIpAddress"] = private_ip
        try:
            self._call(f"associating Elastic IP {address} with {instance_id}",
                       "associate_address", **kwargs)
        except CloudError:
            self.release(allocation)
            raise
        return allocation

    def release(self, allocation_id: str, instance_id: str | None = None) -> None:
        """Disassociate (if associated) and release the Elastic IP."""
        try:
            found = self._call(f"looking up Elastic IP {allocation_id}", "describe_addresses",
                               AllocationIds=[allocation_id])["Addresses"]
        except CloudError as exc:
            if exc.not_found or exc.code == "InvalidAllocationID.NotFound":
                return
            raise
        for item in found:
            if item.get("AssociationId"):
                self._call(f"disassociating Elastic IP {item.get('PublicIp')}",
                           "disassociate_address", AssociationId=item["AssociationId"])
        if found:
            self._call(f"releasing Elastic IP {allocation_id}", "release_address",
                       AllocationId=allocation_id)
