"""The Cinder drivers' edge: the Clouds API (which project is bound to which cloud, its
short-lived credentials, the resource map) and the cloud's volumes. Imports nothing of Cinder.

cinder.conf's ``[clouds]``, ``[aws]`` and ``[yandex]`` sections are those of every driver
(clouds_drivers.service_conf).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from oslo_config import cfg

from clouds_drivers import service_conf
from clouds_drivers.cinder import decide
from clouds_drivers.clouds_api import CloudsClient, ProjectCloud
from clouds_drivers.providers.aws_volumes import AwsVolumes
from clouds_drivers.providers.base import CloudError
from clouds_drivers.providers.volumes import CloudVolumes
from clouds_drivers.providers.yandex_volumes import YandexVolumes

LOG = logging.getLogger(__name__)


def _aws(conf: cfg.ConfigOpts) -> Callable[[ProjectCloud], CloudVolumes]:
    provider = service_conf.aws_provider(conf)
    return lambda project: AwsVolumes(provider, service_conf.account_of(project))


def _yandex(conf: cfg.ConfigOpts) -> Callable[[ProjectCloud], CloudVolumes]:
    provider = service_conf.yandex_provider(conf)
    return lambda project: YandexVolumes(provider, service_conf.account_of(project))


VOLUMES = {"aws": _aws, "yandex": _yandex}


class NotBound(decide.Refused):
    """The volume's project is not bound to this backend's cloud."""


class VolumeCloud:
    """One backend's cloud: the volumes of a project with that project's credentials."""

    def __init__(self, conf: cfg.ConfigOpts, cloud: str,
                 clouds: CloudsClient | None = None) -> None:
        self.cloud = cloud
        self.clouds = clouds or service_conf.clouds_client(conf)
        self._conf = conf
        self._volumes_of: Callable[[ProjectCloud], CloudVolumes] | None = None

    def project(self, project_id: str) -> ProjectCloud:
        """The project's account in this cloud; NotBound when it has none here."""
        found = self.clouds.project_cloud(project_id)
        if found is None or found.provider != self.cloud:
            raise NotBound(decide.not_bound(project_id, self.cloud,
                                            found.provider if found else None))
        return found

    def volumes(self, project: ProjectCloud) -> CloudVolumes:
        """The project's volumes; the cloud's client is built at the first use, so a backend
        starts while its cloud's endpoint (or its CA file) is not there yet."""
        if self._volumes_of is None:
            try:
                self._volumes_of = VOLUMES[self.cloud](self._conf)
            except cfg.Error as exc:
                raise CloudError(str(exc)) from None
        return self._volumes_of(project)

    def record(self, project: ProjectCloud, kind: str, openstack_id: str, cloud_id: str,
               undo: Callable[[], Any], data: dict[str, Any] | None = None) -> None:
        """Map the new cloud object; if the Clouds API refuses, ``undo`` its creation so no
        object is left that nothing knows about."""
        try:
            self.clouds.record(project.project_id, kind, openstack_id, cloud_id, data)
        except Exception:
            LOG.warning("could not record %s %s (%s): deleting it from the cloud", kind,
                        openstack_id, cloud_id)
            undo()
            raise

    def mapped(self, project_id: str, kind: str, openstack_id: str) -> str | None:
        found = self.clouds.lookup(project_id, kind, openstack_id)
        return found["cloud_resource_id"] if found else None

    def forget(self, project_id: str, kind: str, openstack_id: str) -> None:
        self.clouds.forget(project_id, kind, openstack_id)
