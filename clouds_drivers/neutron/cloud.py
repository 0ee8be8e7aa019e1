"""The Neutron drivers' edge: the Clouds API, the clouds' VPC APIs, and Neutron's exceptions.

neutron.conf's ``[clouds]``, ``[aws]`` and ``[yandex]`` sections are those of every driver
(clouds_drivers.service_conf). The spec registers one set of names (``aws``, ``aws_router``,
``subnet_az``); they serve the projects bound to either cloud, each through its provider.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

from neutron_lib import exceptions as n_exc
from oslo_config import cfg

from clouds_drivers import service_conf
from clouds_drivers.clouds_api import CloudsUnavailable, ProjectCloud
from clouds_drivers.neutron import decide
from clouds_drivers.providers.aws import AwsAddresses, AwsNetworks
from clouds_drivers.providers.base import CloudError
from clouds_drivers.providers.networks import CloudAddresses, CloudNetworks
from clouds_drivers.providers.yandex_networks import YandexAddresses, YandexNetworks

LOG = logging.getLogger(__name__)


class CloudRefused(n_exc.BadRequest):
    message = "%(reason)s"


class CloudConflict(n_exc.Conflict):
    message = "%(reason)s"


class CloudUnavailable(n_exc.ServiceUnavailable):
    message = "%(reason)s"


_BY_STATUS = {400: CloudRefused, 409: CloudConflict, 503: CloudUnavailable}


@contextlib.contextmanager
def neutron_errors(cloud: str = "cloud") -> Iterator[None]:
    """Refusals and cloud failures as Neutron exceptions: a status and one line."""
    try:
        yield
    except decide.Conflict as exc:
        raise CloudConflict(reason=str(exc)) from None
    except decide.Refused as exc:
        raise CloudRefused(reason=str(exc)) from None
    except CloudError as exc:
        raise _BY_STATUS[decide.status_of_cloud_error(exc.code)](
            reason=f"{cloud}: {exc}") from None
    except CloudsUnavailable as exc:
        raise CloudUnavailable(reason=str(exc)) from None


#: Each cloud's network and address APIs, by provider name.
_APIS: dict[str, tuple[type[CloudNetworks], type[CloudAddresses]]] = {
    "aws": (AwsNetworks, AwsAddresses), "yandex": (YandexNetworks, YandexAddresses)}


class NeutronCloud:
    """Which projects are cloud-bound, and their VPC API with short-lived credentials."""

    def __init__(self, conf: cfg.ConfigOpts) -> None:
        self.conf = conf
        self.clouds = service_conf.clouds_client(conf)
        self._providers: dict[str, Any] = {}

    def _provider(self, name: str) -> Any:
        """Built on first use, so a Neutron serving only AWS never reads ``[yandex]``."""
        if name not in self._providers:
            build = {"aws": service_conf.aws_provider, "yandex": service_conf.yandex_provider}
            self._providers[name] = build[name](self.conf)
        return self._providers[name]

    def cloud_project(self, project_id: str | None) -> ProjectCloud | None:
        """The project's cloud account, None for projects bound to no cloud."""
        if not project_id:
            return None
        with neutron_errors():
            found = self.clouds.project_cloud(project_id)
        if found is None or found.provider not in _APIS:
            return None
        return found

    @staticmethod
    def rules(project: ProjectCloud) -> decide.NetworkRules:
        return decide.rules_of(project.provider)

    def networks(self, project: ProjectCloud) -> CloudNetworks:
        api = _APIS[project.provider][0]
        return api(self._provider(project.provider), service_conf.account_of(project))

    def addresses(self, project: ProjectCloud) -> CloudAddresses:
        api = _APIS[project.provider][1]
        return api(self._provider(project.provider), service_conf.account_of(project))

    def mapped(self, project: ProjectCloud, kind: str, openstack_id: str
               ) -> dict[str, Any] | None:
        with neutron_errors():
            return self.clouds.lookup(project.project_id, kind, openstack_id)
