"""EC2 instances of one account for the Nova driver (``CloudInstances`` over boto3).

Each instance gets its own key pair (``openstack-<instance id>``) made from the OpenStack key
pair's public key and deleted with the instance, so nothing outlives a server. Waits use
botocore's waiters with a bounded number of polls: a stuck instance is a CloudError, not a
hang.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, WaiterError

from clouds_drivers.providers import compute
from clouds_drivers.providers.aws import AwsProvider, cloud_error, tag_list
from clouds_drivers.providers.base import Account, CloudError

KEY_PREFIX = "openstack-"
#: EC2 instance state name → normalised state.
STATES = {"pending": compute.PENDING, "running": compute.RUNNING,
          "stopping": compute.STOPPING, "stopped": compute.STOPPED,
          "shutting-down": compute.GONE, "terminated": compute.GONE}


@dataclass(frozen=True)
class Waits:
    """Seconds between polls and how many polls before a state change counts as failed."""

    delay: int = 3
    attempts: int = 100


def instance_of(item: dict[str, Any]) -> compute.CloudInstance:
    return compute.CloudInstance(
        id=item["InstanceId"], state=STATES.get(item["State"]["Name"], compute.ERROR),
        private_ip=item.get("PrivateIpAddress"),
        tags={t["Key"]: t["Value"] for t in item.get("Tags", [])})


def key_name(openstack_id: str) -> str:
    return f"{KEY_PREFIX}{openstack_id}"


class AwsInstances(compute.CloudInstances):
    cloud = "aws"

    def __init__(self, provider: AwsProvider, account: Account,
                 waits: Waits | None = None) -> None:
        self.provider = provider
        self.ec2 = provider.client("ec2", account)
        self.waits = waits or Waits()

    def _call(self, doing: str, operation: str, **kwargs: Any) -> dict[str, Any]:
        return self.provider._call(doing, getattr(self.ec2, operation), **kwargs)

    def _wait(self, doing: str, waiter: str, instance_id: str) -> None:
        try:
            self.ec2.get_waiter(waiter).wait(
                InstanceIds=[instance_id],
                WaiterConfig={"Delay": self.waits.delay, "MaxAttempts": self.waits.attempts})
        except WaiterError as exc:
            reason = exc.last_response.get("Error", {}).get("Message") if isinstance(
                exc.last_response, dict) else None
            raise CloudError(f"{doing}: {reason or exc.reason}") from None
        except (ClientError, BotoCoreError) as exc:
            raise cloud_error(exc, doing) from None

    # --- lifecycle --------------------------------------------------------------------------

    def launch(self, spec: compute.Launch) -> compute.CloudInstance:
        doing = f"launching {spec.instance_type} from {spec.image_id} in {spec.zone}"
        kwargs: dict[str, Any] = {
            "ImageId": spec.image_id, "InstanceType": spec.instance_type,
            "MinCount": 1, "MaxCount": 1, "ClientToken": spec.name,
        }
        if spec.tags:
            kwargs["TagSpecifications"] = [{"ResourceType": "instance",
                                            "Tags": tag_list(spec.tags)}]
        if spec.subnet_id:
            kwargs["SubnetId"] = spec.subnet_id
            if spec.private_ip:
                kwargs["PrivateIpAddress"] = spec.private_ip
        else:
            kwargs["Placement"] = {"AvailabilityZone": spec.zone}
        if spec.user_data:
            kwargs["UserData"] = spec.user_data.decode("utf-8", errors="replace")
        if spec.root_disk_gb:
            kwargs["BlockDeviceMappings"] = [self._root_volume(spec.image_id, spec.root_disk_gb)]
        made_key = False
        if spec.public_key:
            self._call(f"importing the key pair of {spec.name}", "import_key_pair",
                       KeyName=key_name(spec.name),
                       PublicKeyMaterial=spec.public_key.encode())
            made_key = True
            kwargs["KeyName"] = key_name(spec.name)
        try:
            item = self._call(doing, "run_instances", **kwargs)["Instances"][0]
        except CloudError:
            if made_key:
                self._delete_key(spec.name)
            raise
        try:
            self._wait(f"waiting for {item['InstanceId']} to run", "instance_running",
                       item["InstanceId"])
        except CloudError:
            self.terminate(item["InstanceId"])
            raise
        return self.find(item["InstanceId"]) or instance_of(item)

    def _root_volume(self, image_id: str, size_gb: int) -> dict[str, Any]:
        """The AMI's root EBS volume at ``size_gb``, or at its snapshot's size if larger."""
        images = self._call(f"looking up {image_id}", "describe_images",
                            ImageIds=[image_id])["Images"]
        if not images:
            raise CloudError(f"no image {image_id} in the account's region")
        return root_volume_mapping(images[0], size_gb)

    def find(self, instance_id: str) -> compute.CloudInstance | None:
        try:
            answer = self._call(f"looking up {instance_id}", "describe_instances",
                                InstanceIds=[instance_id])
        except CloudError as exc:
            if exc.not_found:
                return None
            raise
        for reservation in answer["Reservations"]:
            for item in reservation["Instances"]:
                found = instance_of(item)
                return None if found.state == compute.GONE else found
        return None

    def tagged(self, key: str, value: str) -> list[compute.CloudInstance]:
        doing = f"listing the instances tagged {key}={value}"
        found = []
        for page in self.provider._pages(
                doing, self.ec2, "describe_instances",
                Filters=[{"Name": f"tag:{key}", "Values": [value]},
                         {"Name": "instance-state-name",
                          "Values": ["pending", "running", "stopping", "stopped"]}]):
            found += [instance_of(item) for reservation in page["Reservations"]
                      for item in reservation["Instances"]]
        return [item for item in found if item.state != compute.GONE]

    def start(self, instance_id: str) -> None:
        self._call(f"starting {instance_id}", "start_instances", InstanceIds=[instance_id])
        self._wait(f"waiting for {instance_id} to run", "instance_running", instance_id)

    def stop(self, instance_id: str) -> None:
        self._call(f"stopping {instance_id}", "stop_instances", InstanceIds=[instance_id])
        self._wait(f"waiting for {instance_id} to stop", "instance_stopped", instance_id)

    def reboot(self, instance_id: str) -> None:
        self._call(f"rebooting {instance_id}", "reboot_instances", InstanceIds=[instance_id])

    def terminate(self, instance_id: str) -> None:
        try:
            answer = self._call(f"looking up {instance_id}", "describe_instances",
                                InstanceIds=[instance_id])
        except CloudError as exc:
            if exc.not_found:
                return
            raise
        items = [i for r in answer["Reservations"] for i in r["Instances"]]
        if not items:
            return
        self._call(f"terminating {instance_id}", "terminate_instances",
                   InstanceIds=[instance_id])
        key = items[0].get("KeyName") or ""
        if key.startswith(KEY_PREFIX):
            self._delete_key(key[len(KEY_PREFIX):])

    def _delete_key(self, openstack_id: str) -> None:
        try:
            self._call(f"deleting key pair {key_name(openstack_id)}", "delete_key_pair",
                       KeyName=key_name(openstack_id))
        except CloudError as exc:
            if not exc.not_found:
                raise

    # --- the rest -----------------------------------------------------------------------------

    def console_output(self, instance_id: str) -> str:
        answer = self._call(f"reading the console of {instance_id}", "get_console_output",
                            InstanceId=instance_id, Latest=True)
        return _decoded(answer.get("Output") or "")

    def create_image(self, instance_id: str, name: str, tags: dict[str, str]) -> str:
        answer = self._call(f"creating an image of {instance_id}", "create_image",
                            InstanceId=instance_id, Name=name, NoReboot=True,
                            TagSpecifications=[{"ResourceType": "image",
                                                "Tags": tag_list(tags)}])
        image_id = answer["ImageId"]
        try:
            self.ec2.get_waiter("image_available").wait(
                ImageIds=[image_id],
                WaiterConfig={"Delay": self.waits.delay, "MaxAttempts": self.waits.attempts})
        except (WaiterError, ClientError, BotoCoreError) as exc:
            raise CloudError(f"waiting for image {image_id} of {instance_id}: {exc}") from None
        return image_id

    def attach_volume(self, instance_id: str, volume_id: str, device: str) -> None:
        self._call(f"attaching {volume_id} to {instance_id} as {device}", "attach_volume",
                   InstanceId=instance_id, VolumeId=volume_id, Device=device)

    def detach_volume(self, instance_id: str, volume_id: str, device: str) -> None:
        try:
            self._call(f"detaching {volume_id} from {instance_id}", "detach_volume",
                       InstanceId=instance_id, VolumeId=volume_id, Device=device)
        except CloudError as exc:
            if not (exc.not_found or exc.code == "IncorrectState"):
                raise


def _decoded(output: str) -> str:
    """EC2 returns the console base64-encoded (moto: sometimes already decoded)."""
    try:
        return base64.b64decode(output, validate=True).decode("utf-8", errors="replace")
    except (binascii.Error, ValueError):
        return output


def root_volume_mapping(image: dict[str, Any], size_gb: int) -> dict[str, Any]:
    """RunInstances' block device mapping that sizes the root volume of ``image``."""
    root = image.get("RootDeviceName") or "/dev/xvda"
    own = next((m.get("Ebs", {}).get("VolumeSize") for m in image.get("BlockDeviceMappings", [])
                if m.get("DeviceName") == root), None)
    return {"DeviceName": root,
            "Ebs": {"VolumeSize": max(size_gb, int(own or 0)), "DeleteOnTermination": True}}
