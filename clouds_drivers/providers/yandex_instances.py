"""Yandex Compute instances of one folder for the Nova driver (``CloudInstances`` over the
``yandexcloud`` SDK, authenticated by the project's short-lived IAM token).

Yandex names follow OpenStack's: the instance is ``openstack-<server id>``; labels carry the
drivers' tags with ``:`` as ``-`` (Yandex label keys allow neither ``:`` nor capitals). The
key pair goes into the instance's ``ssh-keys`` metadata (Yandex has no key-pair object), the
user data into ``user-data``. Every operation is waited for with the SDK's waiter, bounded by
the provider's timeout.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from yandex.cloud.compute.v1 import (
    image_pb2,
    image_service_pb2,
    instance_pb2,
    instance_service_pb2,
)
from yandex.cloud.compute.v1.image_service_pb2_grpc import ImageServiceStub
from yandex.cloud.compute.v1.instance_service_pb2_grpc import InstanceServiceStub

from clouds_drivers.providers import compute
from clouds_drivers.providers.base import Account, CloudError
from clouds_drivers.providers.yandex import FolderApi, YandexProvider, preset_types

NAME_PREFIX = "openstack-"
GIB = 1024**3
_STATUS = instance_pb2.Instance.Status
STATES = {_STATUS.PROVISIONING: compute.PENDING, _STATUS.STARTING: compute.PENDING,
          _STATUS.RUNNING: compute.RUNNING, _STATUS.RESTARTING: compute.RUNNING,
          _STATUS.UPDATING: compute.RUNNING, _STATUS.STOPPING: compute.STOPPING,
          _STATUS.STOPPED: compute.STOPPED, _STATUS.DELETING: compute.GONE,
          _STATUS.ERROR: compute.ERROR, _STATUS.CRASHED: compute.ERROR}


def labels_of(tags: dict[str, str]) -> dict[str, str]:
    """The drivers' tags as Yandex labels (lower case, ``:`` → ``-``; Name is the name)."""
    return {key.lower().replace(":", "-"): value.lower() for key, value in tags.items()
            if key != "Name"}


def tags_of(labels: dict[str, str]) -> dict[str, str]:
    return {key.replace("openstack-", "openstack:", 1): value for key, value in labels.items()}


def preset(name: str) -> tuple[str, int, int]:
    """(platform, cores, memory bytes) of a preset type like ``s3-c2-m8``."""
    for item in preset_types():
        if item.name == name:
            return item.details["platform_id"], item.vcpus, item.ram_mb * 1024**2
    raise CloudError(f"unknown Yandex instance type {name!r} (the presets are "
                     f"{', '.join(t.name for t in preset_types()[:4])}, …)",
                     code="InvalidInstanceType")


def instance_of(item: Any) -> compute.CloudInstance:
    address = None
    if item.network_interfaces:
        address = item.network_interfaces[0].primary_v4_address.address or None
    return compute.CloudInstance(id=item.id, state=STATES.get(item.status, compute.ERROR),
                                 private_ip=address, tags=tags_of(dict(item.labels)))


class YandexInstances(FolderApi, compute.CloudInstances):
    cloud = "yandex"

    def __init__(self, provider: YandexProvider, account: Account) -> None:
        super().__init__(provider, account)
        self.instances = self.sdk.client(InstanceServiceStub)
        self.images = self.sdk.client(ImageServiceStub)

    def launch(self, spec: compute.Launch,
               started: Callable[[str], None] | None = None) -> compute.CloudInstance:
        platform, cores, memory = preset(spec.instance_type)
        image = self._call(f"looking up image {spec.image_id}", self.images.Get,
                           image_service_pb2.GetImageRequest(image_id=spec.image_id))
        metadata = {}
        if spec.public_key:
            metadata["ssh-keys"] = f"openstack:{spec.public_key.strip()}"
        if spec.user_data:
            metadata["user-data"] = spec.user_data.decode("utf-8", errors="replace")
        nic = instance_service_pb2.NetworkInterfaceSpec(
            subnet_id=spec.subnet_id or "",
            primary_v4_address_spec=instance_service_pb2.PrimaryAddressSpec(
                address=spec.private_ip or ""))
        request = instance_service_pb2.CreateInstanceRequest(
            folder_id=self.folder_id, name=f"{NAME_PREFIX}{spec.name}",
            labels=labels_of(spec.tags), zone_id=spec.zone, platform_id=platform,
            resources_spec=instance_service_pb2.ResourcesSpec(cores=cores, memory=memory),
            metadata=metadata,
            boot_disk_spec=instance_service_pb2.AttachedDiskSpec(
                auto_delete=True, disk_spec=instance_service_pb2.AttachedDiskSpec.DiskSpec(
                    image_id=spec.image_id,
                    size=max(image.min_disk_size, GIB, spec.root_disk_gb * GIB))),
            network_interface_specs=[nic])

        def named(operation: Any) -> None:
            metadata = instance_service_pb2.CreateInstanceMetadata()
            operation.metadata.Unpack(metadata)
            started(metadata.instance_id)

        made = self._operation(f"creating {spec.instance_type} from {spec.image_id} in "
                               f"{spec.zone}", self.instances.Create, request,
                               instance_pb2.Instance, started=named if started else None)
        return instance_of(made)

    def find(self, instance_id: str) -> compute.CloudInstance | None:
        try:
            item = self._call(f"looking up {instance_id}", self.instances.Get,
                              instance_service_pb2.GetInstanceRequest(instance_id=instance_id))
        except CloudError as exc:
            if exc.not_found:
                return None
            raise
        found = instance_of(item)
        return None if found.state == compute.GONE else found

    def tagged(self, key: str, value: str) -> list[compute.CloudInstance]:
        """Filtered here: label keys and values are the tags as ``labels_of`` writes them."""
        ((label, wanted),) = labels_of({key: value}).items()
        found, token = [], ""
        while True:
            page = self._call(f"listing the instances of folder {self.folder_id}",
                              self.instances.List, instance_service_pb2.ListInstancesRequest(
                                  folder_id=self.folder_id, page_size=1000, page_token=token))
            found += [instance_of(item) for item in page.instances
                      if item.labels.get(label) == wanted]
            token = page.next_page_token
            if not token:
                return [item for item in found if item.state != compute.GONE]

    def start(self, instance_id: str) -> None:
        self._operation(f"starting {instance_id}", self.instances.Start,
                        instance_service_pb2.StartInstanceRequest(instance_id=instance_id))

    def stop(self, instance_id: str) -> None:
        self._operation(f"stopping {instance_id}", self.instances.Stop,
                        instance_service_pb2.StopInstanceRequest(instance_id=instance_id))

    def reboot(self, instance_id: str) -> None:
        self._operation(f"restarting {instance_id}", self.instances.Restart,
                        instance_service_pb2.RestartInstanceRequest(instance_id=instance_id))

    def terminate(self, instance_id: str) -> None:
        try:
            self._operation(f"deleting {instance_id}", self.instances.Delete,
                            instance_service_pb2.DeleteInstanceRequest(instance_id=instance_id))
        except CloudError as exc:
            if not exc.not_found:
                raise

    def console_output(self, instance_id: str) -> str:
        answer = self._call(
            f"reading the serial console of {instance_id}", self.instances.GetSerialPortOutput,
            instance_service_pb2.GetInstanceSerialPortOutputRequest(instance_id=instance_id))
        return answer.contents

    def create_image(self, instance_id: str, name: str, tags: dict[str, str]) -> str:
        item = self._call(f"looking up {instance_id}", self.instances.Get,
                          instance_service_pb2.GetInstanceRequest(instance_id=instance_id))
        made = self._operation(
            f"creating an image of {instance_id}", self.images.Create,
            image_service_pb2.CreateImageRequest(folder_id=self.folder_id,
                                                 name=name.lower()[:63].rstrip("-"),
                                                 labels=labels_of(tags),
                                                 disk_id=item.boot_disk.disk_id),
            image_pb2.Image)
        return made.id

    def attach_volume(self, instance_id: str, volume_id: str, device: str) -> None:
        self._operation(
            f"attaching disk {volume_id} to {instance_id}", self.instances.AttachDisk,
            instance_service_pb2.AttachInstanceDiskRequest(
                instance_id=instance_id,
                attached_disk_spec=instance_service_pb2.AttachedDiskSpec(
                    disk_id=volume_id, device_name=device)))

    def detach_volume(self, instance_id: str, volume_id: str, device: str) -> None:
        try:
            self._operation(
                f"detaching disk {volume_id} from {instance_id}", self.instances.DetachDisk,
                instance_service_pb2.DetachInstanceDiskRequest(instance_id=instance_id,
                                                               disk_id=volume_id))
        except CloudError as exc:
            if not exc.not_found:
                raise
