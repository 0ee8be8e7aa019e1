"""openstacksdk connection for the AOS service user (``[openstack]`` section)."""

from __future__ import annotations

import openstack
from openstack import connection
from oslo_config import cfg


class OpenStackConfigError(Exception):
    pass


def connect(conf: cfg.ConfigOpts, api_timeout: float | None = None) -> connection.Connection:
    """The service user's connection; every request is bounded by ``api_timeout`` if given,
    else by ``[openstack] timeout``."""
    section = conf.openstack
    if not section.auth_url or not section.password:
        raise OpenStackConfigError(
            "[openstack] auth_url and password must be set to reach OpenStack"
        )
    return openstack.connect(
        auth_url=section.auth_url,
        username=section.username,
        password=section.password,
        project_name=section.project_name,
        user_domain_name=section.user_domain_name,
        project_domain_name=section.project_domain_name,
        region_name=section.region_name,
        interface=section.interface,
        cacert=section.cafile,
        # keystoneauth's session timeout, on every request (tokens, catalog, APIs): a hung
        # endpoint fails the call instead of blocking a fencing or the tracker's loop.
        api_timeout=section.timeout if api_timeout is None else api_timeout,
        # A pooled keep-alive connection closed by the server just as a request goes out
        # fails with "connection reset"; one retry on a new connection is what a browser does.
        connect_retries=2,
        load_yaml_config=False,
        load_envvars=False,
    )
