"""The Neutron drivers' edge: configuration, the Clouds API, AWS, and Neutron's exceptions.

``[clouds]`` in neutron.conf holds keystoneauth options of a service user (the Clouds API
hands short-lived credentials to the ``service`` role); ``[aws]`` mirrors clouds.conf's
section (endpoint, timeouts, retries) for the calls made with those credentials.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

from keystoneauth1 import loading as ks_loading
from neutron_lib import exceptions as n_exc
from oslo_config import cfg

from clouds_drivers.clouds_api import (
    DEFAULT_TIMEOUT,
    CloudsClient,
    CloudsUnavailable,
    ProjectCloud,
)
from clouds_drivers.neutron import decide
from clouds_drivers.providers.aws import AwsNetworks, AwsProvider, Settings
from clouds_drivers.providers.base import Account, CloudError

LOG = logging.getLogger(__name__)
CLOUDS_GROUP = "clouds"
AWS_GROUP = "aws"
AWS_OPTS = [
    cfg.StrOpt("endpoint_url", help="One URL for EC2 (another implementation of the AWS "
               "APIs); unset: the real regional endpoints."),
    cfg.FloatOpt("connect_timeout", default=10.0, help="Seconds to connect to AWS."),
    cfg.FloatOpt("read_timeout", default=30.0, help="Seconds to wait for an AWS answer."),
    cfg.IntOpt("max_attempts", default=3, help="botocore standard-mode attempts."),
]


class CloudRefused(n_exc.BadRequest):
    message = "%(reason)s"


class CloudConflict(n_exc.Conflict):
    message = "%(reason)s"


class CloudUnavailable(n_exc.ServiceUnavailable):
    message = "%(reason)s"


_BY_STATUS = {400: CloudRefused, 409: CloudConflict, 503: CloudUnavailable}


def register_opts(conf: cfg.ConfigOpts) -> None:
    ks_loading.register_session_conf_options(conf, CLOUDS_GROUP)
    ks_loading.register_auth_conf_options(conf, CLOUDS_GROUP)
    ks_loading.register_adapter_conf_options(conf, CLOUDS_GROUP)
    conf.set_default("service_type", "clouds", group=CLOUDS_GROUP)
    conf.set_default("timeout", DEFAULT_TIMEOUT, group=CLOUDS_GROUP)
    conf.register_opts(AWS_OPTS, group=AWS_GROUP)


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
        register_opts(conf)
        auth = ks_loading.load_auth_from_conf_options(conf, CLOUDS_GROUP)
        session = ks_loading.load_session_from_conf_options(conf, CLOUDS_GROUP, auth=auth)
        adapter = ks_loading.load_adapter_from_conf_options(conf, CLOUDS_GROUP,
                                                            session=session, auth=auth)
        self.clouds = CloudsClient(adapter, timeout=conf[CLOUDS_GROUP].timeout
                                   or DEFAULT_TIMEOUT)
        aws = conf[AWS_GROUP]
        self.provider = AwsProvider(Settings(
            endpoint_url=aws.endpoint_url, connect_timeout=aws.connect_timeout,
            read_timeout=aws.read_timeout, max_attempts=aws.max_attempts))

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
        account = Account(provider="aws", zone=project.zone, region=project.region,
                          secrets=project.secrets)
        return AwsNetworks(self.provider, account)

    def mapped(self, project: ProjectCloud, kind: str, openstack_id: str
               ) -> dict[str, Any] | None:
        with neutron_errors():
            return self.clouds.lookup(project.project_id, kind, openstack_id)
