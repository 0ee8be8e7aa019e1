"""``compute_driver = clouds_drivers.nova.virt.yandex.driver.YandexDriver``: instances in
Yandex Compute.

nova.conf's ``[clouds]`` (the Clouds API) and ``[yandex]`` (endpoint, CA, timeout) sections
are those of every clouds driver (``clouds_drivers.service_conf``).
"""

from __future__ import annotations

import functools

from nova.conf import CONF

from clouds_drivers import service_conf
from clouds_drivers.clouds_api import ProjectCloud
from clouds_drivers.nova.virt import decide
from clouds_drivers.nova.virt.cloud import CloudDriver
from clouds_drivers.providers.yandex import YandexProvider
from clouds_drivers.providers.yandex_instances import YandexInstances


class YandexDriver(CloudDriver):
    cloud = "yandex"
    volume_type = "yandex_disk"
    volume_key = "disk_id"
    needs_port = True

    @functools.cached_property
    def provider(self) -> YandexProvider:
        """Built at the first call: the CA file it reads may appear after nova-compute starts."""
        return service_conf.yandex_provider(CONF)

    def instances_of(self, project: ProjectCloud) -> YandexInstances:
        return YandexInstances(self.provider, service_conf.account_of(project))

    def device_of(self, mountpoint: str) -> str:
        return decide.yandex_device(mountpoint)
