"""The per-cloud instance interface the Nova drivers share, over plain data.

``clouds_drivers.nova.virt.cloud.CloudDriver`` does everything Nova asks through this
interface, so EC2 and Yandex differ only in their implementation of it (nothing here
imports Nova). States are normalised to a few words the driver maps to Nova's power states.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass, field

#: Normalised instance states.
PENDING, RUNNING, STOPPING, STOPPED, GONE, ERROR = (
    "pending", "running", "stopping", "stopped", "gone", "error")


@dataclass(frozen=True)
class Launch:
    """One instance to create; ``name`` is the OpenStack instance id (idempotency key).

    ``root_disk_gb`` is the flavor's root disk: the boot volume is made that large, or as
    large as the image needs if that is more (0: the image's own size)."""

    name: str
    image_id: str
    instance_type: str
    zone: str
    subnet_id: str | None = None
    private_ip: str | None = None
    public_key: str | None = None
    user_data: bytes | None = None
    tags: dict[str, str] = field(default_factory=dict)
    root_disk_gb: int = 0


@dataclass(frozen=True)
class CloudInstance:
    id: str
    state: str
    private_ip: str | None = None
    tags: dict[str, str] = field(default_factory=dict)


class CloudInstances(abc.ABC):
    """Instances, images and volume attachments of one account; every failure a CloudError.

    Operations on an instance that is already gone are not errors where the end state is
    the one asked for (terminate, detach), so a retried delete is safe.
    """

    cloud: str

    @abc.abstractmethod
    def launch(self, spec: Launch,
               started: Callable[[str], None] | None = None) -> CloudInstance:
        """Create the instance and wait until it runs; on failure nothing is left behind.

        ``started`` is given the cloud's id as soon as the cloud has named the instance,
        before the wait: the caller can record it while the instance boots."""

    @abc.abstractmethod
    def find(self, instance_id: str) -> CloudInstance | None:
        """The instance, None when the cloud has no such (or only a terminated) one."""

    @abc.abstractmethod
    def tagged(self, key: str, value: str) -> list[CloudInstance]:
        """The account's live instances whose tag ``key`` is ``value`` (listed in pages)."""

    @abc.abstractmethod
    def start(self, instance_id: str) -> None: ...

    @abc.abstractmethod
    def stop(self, instance_id: str) -> None: ...

    @abc.abstractmethod
    def reboot(self, instance_id: str) -> None: ...

    @abc.abstractmethod
    def terminate(self, instance_id: str) -> None:
        """Delete the instance and what was made for it (its key pair)."""

    @abc.abstractmethod
    def console_output(self, instance_id: str) -> str: ...

    @abc.abstractmethod
    def create_image(self, instance_id: str, name: str, tags: dict[str, str]) -> str:
        """A cloud image of the instance's disks; its id."""

    @abc.abstractmethod
    def attach_volume(self, instance_id: str, volume_id: str, device: str) -> None: ...

    @abc.abstractmethod
    def detach_volume(self, instance_id: str, volume_id: str, device: str) -> None: ...
