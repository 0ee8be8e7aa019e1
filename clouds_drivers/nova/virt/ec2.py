"""``compute_driver = clouds_drivers.nova.virt.ec2.EC2Driver``: instances in AWS EC2.

nova.conf's ``[clouds]`` (the Clouds API) and ``[aws]`` (endpoint, timeouts) sections are
those of every clouds driver (``clouds_drivers.service_conf``).
"""

from __future__ import annotations

from nova.conf import CONF

from clouds_drivers import service_conf
from clouds_drivers.clouds_api import ProjectCloud
from clouds_drivers.nova.virt import decide
from clouds_drivers.nova.virt.cloud import CloudDriver
from clouds_drivers.providers.aws_instances import AwsInstances


class EC2Driver(CloudDriver):
    cloud = "aws"
    volume_type = "aws_ebs"
    volume_key = "volume_id"

    def __init__(self, virtapi, read_only=False):  # noqa: ANN001 - Nova's signature
        super().__init__(virtapi, read_only)
        self.provider = service_conf.aws_provider(CONF)

    def instances_of(self, project: ProjectCloud) -> AwsInstances:
        return AwsInstances(self.provider, service_conf.account_of(project))

    def device_of(self, mountpoint: str) -> str:
        return decide.aws_device(mountpoint)
