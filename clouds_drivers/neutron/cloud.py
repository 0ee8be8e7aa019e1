"""The Neutron drivers' edge: the Clouds API, AWS, and Neutron's exceptions.

neutron.conf's ``[clouds]`` and ``[aws]`` sections are those of every driver
(clouds_drivers.service_conf).
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

LOG = logging.getLogger(__name__)


class CloudRefused(n_exc.BadRequest):
    message = "%(reason)s"


class CloudConflict(n_exc.Conflict):
    message = "%(reason)s"


class CloudUnavailable(n_exc.ServiceUnavailable):
    message = "%(reason)s"


_BY_STATUS = {400: CloudRefused, 409: CloudConflict, 503: CloudUnavailable}


@contextlib.contextmanager
def neutron_errors() -> Iterator[None]:
    """Refusals and cloud failures as Neutron exceptions: a status and one line."""
    try:
        yield
    except decide.Conflict as exc:
        raise CloudConflict(reason=str(exc)) from None
    except decide.Refused as exc:
        raise CloudRefused(reason=str(exc)) from None
    except CloudError as exc:
        raise _BY_STATUS[decide.status_of_cloud_error(exc.code)](
            reason=f"AWS: {exc}") from None
    except CloudsUnavailable as exc:
        raise CloudUnavailable(reason=str(exc)) from None


class NeutronCloud:
    """Which projects are AWS-bound, and their VPC API with short-lived credentials."""

    def __init__(self, conf: cfg.ConfigOpts) -> None:
        self.clouds = service_conf.clouds_client(conf)
        self.provider = service_conf.aws_provider(conf)

    def aws_project(self, project_id: str | None) -> ProjectCloud | None:
        """The project's AWS account, None for projects that are not AWS-bound."""
        if not project_id:
            return None
        with neutron_errors():
            found = self.clouds.project_cloud(project_id)
        if found is None or found.provider != "aws":
            return None
        return found

    def networks(self, project: ProjectCloud) -> AwsNetworks:
        return AwsNetworks(self.provider, service_conf.account_of(project))

    def addresses(self, project: ProjectCloud) -> AwsAddresses:
        return AwsAddresses(self.provider, service_conf.account_of(project))

    def mapped(self, project: ProjectCloud, kind: str, openstack_id: str
               ) -> dict[str, Any] | None:
        with neutron_errors():
            return self.clouds.lookup(project.project_id, kind, openstack_id)
