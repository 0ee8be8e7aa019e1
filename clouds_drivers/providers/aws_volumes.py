"""EBS volumes and snapshots of one AWS account (the Cinder EBSDriver's cloud calls)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, WaiterError

from clouds_drivers.providers.aws import AwsProvider, cloud_error, tag_list
from clouds_drivers.providers.base import Account, CloudError
from clouds_drivers.providers.volumes import CloudVolume, CloudVolumes, VolumeSource, gone_ok

VOLUME_TYPE = "gp3"
#: Seconds between polls and the most polls while a volume or snapshot becomes ready.
POLL_DELAY, POLL_ATTEMPTS = 2, 150


class AwsVolumes(CloudVolumes):
    def __init__(self, provider: AwsProvider, account: Account) -> None:
        self.provider = provider
        self.zone = account.zone
        self.ec2 = provider.client("ec2", account)

    def _call(self, doing: str, operation: str, **kwargs: Any) -> dict[str, Any]:
        return self.provider._call(doing, getattr(self.ec2, operation), **kwargs)

    def _wait(self, doing: str, waiter: str, **kwargs: Any) -> None:
        try:
            self.ec2.get_waiter(waiter).wait(
                WaiterConfig={"Delay": POLL_DELAY, "MaxAttempts": POLL_ATTEMPTS}, **kwargs)
        except WaiterError as exc:
            reason = (exc.last_response or {}).get("Error", {}).get("Message") or str(exc)
            raise CloudError(f"{doing}: {reason}") from None
        except (ClientError, BotoCoreError) as exc:
            raise cloud_error(exc, doing) from None

    def _gone_ok(self, doing: str, operation: str, **kwargs: Any) -> None:
        gone_ok(lambda: self._call(doing, operation, **kwargs))

    def create(self, name: str, size_gb: int, tags: dict[str, str],
               source: VolumeSource | None = None) -> str:
        source = source or VolumeSource()
        snapshot_id = source.snapshot_id or (
            self.image_snapshot(source.image_id) if source.image_id else None)
        doing = f"creating a {size_gb} GiB EBS volume in {self.zone}"
        extra = {"SnapshotId": snapshot_id} if snapshot_id else {}
        volume = self._call(doing, "create_volume", AvailabilityZone=self.zone, Size=size_gb,
                            VolumeType=VOLUME_TYPE, TagSpecifications=[
                                {"ResourceType": "volume",
                                 "Tags": tag_list({"Name": name, **tags})}], **extra)
        volume_id = volume["VolumeId"]
        try:
            self._wait(f"waiting for EBS volume {volume_id}", "volume_available",
                       VolumeIds=[volume_id])
        except CloudError:
            self._gone_ok(f"deleting EBS volume {volume_id}", "delete_volume",
                          VolumeId=volume_id)
            raise
        return volume_id

    def image_snapshot(self, image_id: str) -> str:
        """The EBS snapshot behind an AMI's root device."""
        doing = f"looking up AMI {image_id}"
        images = self._call(doing, "describe_images", ImageIds=[image_id])["Images"]
        if not images:
            raise CloudError(f"{doing}: no such AMI", not_found=True)
        root = images[0].get("RootDeviceName")
        for mapping in images[0].get("BlockDeviceMappings", []):
            if mapping.get("DeviceName") == root and mapping.get("Ebs", {}).get("SnapshotId"):
                return mapping["Ebs"]["SnapshotId"]
        raise CloudError(f"{doing}: the AMI's root device is not an EBS snapshot")

    def delete(self, volume_id: str) -> None:
        self._gone_ok(f"deleting EBS volume {volume_id}", "delete_volume", VolumeId=volume_id)

    def extend(self, volume_id: str, size_gb: int) -> None:
        self._call(f"growing EBS volume {volume_id} to {size_gb} GiB", "modify_volume",
                   VolumeId=volume_id, Size=size_gb)

    def snapshot(self, volume_id: str, name: str, tags: dict[str, str]) -> str:
        answer = self._call(f"taking a snapshot of EBS volume {volume_id}", "create_snapshot",
                            VolumeId=volume_id, Description=name, TagSpecifications=[
                                {"ResourceType": "snapshot",
                                 "Tags": tag_list({"Name": name, **tags})}])
        snapshot_id = answer["SnapshotId"]
        self._wait(f"waiting for EBS snapshot {snapshot_id}", "snapshot_completed",
                   SnapshotIds=[snapshot_id])
        return snapshot_id

    def delete_snapshot(self, snapshot_id: str) -> None:
        self._gone_ok(f"deleting EBS snapshot {snapshot_id}", "delete_snapshot",
                      SnapshotId=snapshot_id)

    def describe(self, volume_id: str) -> CloudVolume | None:
        try:
            found = self._call(f"looking up EBS volume {volume_id}", "describe_volumes",
                               VolumeIds=[volume_id])["Volumes"]
        except CloudError as exc:
            if exc.not_found:
                return None
            raise
        if not found:
            return None
        volume = found[0]
        return CloudVolume(id=volume["VolumeId"], size_gb=volume["Size"],
                           zone=volume["AvailabilityZone"], status=volume["State"],
                           tags={t["Key"]: t["Value"] for t in volume.get("Tags", [])})
