"""``volume_driver = clouds_drivers.cinder.volume.drivers.yandex.VolumeDriver`` (spec 000)."""

from __future__ import annotations

from clouds_drivers.cinder.volume.drivers.cloud_base import CloudVolumeDriver


class VolumeDriver(CloudVolumeDriver):
    """Volumes of Yandex-bound projects as compute disks in the project's zone and folder."""

    cloud = "yandex"
