"""``volume_driver = clouds_drivers.cinder.volume.drivers.aws.ebs.EBSDriver`` (spec 000)."""

from __future__ import annotations

from clouds_drivers.cinder.volume.drivers.cloud_base import CloudVolumeDriver


class EBSDriver(CloudVolumeDriver):
    """Volumes of AWS-bound projects as EBS volumes in the project's availability zone."""

    cloud = "aws"
