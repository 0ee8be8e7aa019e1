"""EC2 instances of one account for the Nova driver (``CloudInstances`` over boto3).

Each instance gets its own key pair (``openstack-<instance id>``) made from the OpenStack key
pair's public key and deleted with the instance, so nothing outlives a server. Waits poll
DescribeInstances a bounded number of times and hand back what the last poll saw (a launch
costs no describe after the one that finds it running): a stuck instance is a CloudError,
not a hang. The root volume mapping of an AMI is read once per AMI and size.
"""

from __future__ import annotations

import base64
import binascii
import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import tenacity
from botocore.exceptions import BotoCoreError, ClientError, WaiterError

from clouds_drivers.providers import compute
from clouds_drivers.providers.aws import AwsProvider, tag_list
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
        #: (AMI, root size) → its root volume mapping
        self._roots: dict[tuple[str, int], dict[str, Any]] = {}

    def _call(self, doing: str, operation: str, **kwargs: Any) -> dict[str, Any]:
        return self.provider._call(doing, getattr(self.ec2, operation), **kwargs)

    def _wait(self, doing: str, instance_id: str, wanted: str) -> compute.CloudInstance:
        """Poll until the instance is ``wanted`` (a normalised state); the instance then.
        Gone (terminated) or still not there after ``waits.attempts`` polls: CloudError."""
        def gone_or_wanted(found: compute.CloudInstance | None) -> bool:
            return found is None or found.state in (wanted, compute.GONE)

        def failed(state: tenacity.RetryCallState) -> compute.CloudInstance:
            found = state.outcome.result()
            raise CloudError(f"{doing}: still {found.state} after {state.attempt_number} "
                             f"polls {self.waits.delay}s apart")

        found = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.waits.attempts),
            wait=tenacity.wait_fixed(self.waits.delay),
            retry=tenacity.retry_if_not_result(gone_or_wanted),
            retry_error_callback=failed)(self._describe, instance_id)
        if found is None or found.state != wanted:
            raise CloudError(f"{doing}: the instance is gone")
        return found

    # --- lifecycle --------------------------------------------------------------------------

    def launch(self, spec: compute.Launch,
               started: Callable[[str], None] | None = None) -> compute.CloudInstance:
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
            if started is not None:
                started(item["InstanceId"])
            return self._wait(f"waiting for {item['InstanceId']} to run", item["InstanceId"],
                              compute.RUNNING)
        except Exception:
            self.terminate(item["InstanceId"])
            raise

    def _root_volume(self, image_id: str, size_gb: int) -> dict[str, Any]:
        """The AMI's root EBS volume at ``size_gb``, or at its snapshot's size if larger (an
        AMI never changes: read once)."""
        if (image_id, size_gb) not in self._roots:
            images = self._call(f"looking up {image_id}", "describe_images",
                                ImageIds=[image_id])["Images"]
            if not images:
                raise CloudError(f"no image {image_id} in the account's region")
            self._roots[image_id, size_gb] = root_volume_mapping(images[0], size_gb)
        return copy.deepcopy(self._roots[image_id, size_gb])

    def find(self, instance_id: str) -> compute.CloudInstance | None:
        found = self._describe(instance_id)
        return None if found is None or found.state == compute.GONE else found

    def _describe(self, instance_id: str) -> compute.CloudInstance | None:
        try:
            answer = self._call(f"looking up {instance_id}", "describe_instances",
                                InstanceIds=[instance_id])
        except CloudError as exc:
            if exc.not_found:
                return None
            raise
        items = [item for r in answer["Reservations"] for item in r["Instances"]]
        return instance_of(items[0]) if items else None

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
        self._wait(f"waiting for {instance_id} to run", instance_id, compute.RUNNING)

    def stop(self, instance_id: str) -> None:
        self._call(f"stopping {instance_id}", "stop_instances", InstanceIds=[instance_id])
        self._wait(f"waiting for {instance_id} to stop", instance_id, compute.STOPPED)

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
