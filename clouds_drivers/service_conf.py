"""What every driver reads from its service's configuration file (nova.conf, cinder.conf,
glance-api.conf, neutron.conf): the Clouds API it asks for short-lived credentials, and where
each cloud's API is.

``[clouds]`` holds keystoneauth options of a service user (the Clouds API hands short-lived
credentials to the ``service`` role); ``[aws]`` and ``[yandex]`` mirror clouds.conf's sections
(endpoint, timeouts, retries) for the calls made with those credentials.
"""

from __future__ import annotations

from keystoneauth1 import loading as ks_loading
from oslo_config import cfg

from clouds_drivers.clouds_api import DEFAULT_TIMEOUT, CloudsClient, ProjectCloud
from clouds_drivers.providers import aws, yandex
from clouds_drivers.providers.base import Account

CLOUDS_GROUP = "clouds"
AWS_GROUP = "aws"
YANDEX_GROUP = "yandex"
AWS_OPTS = [
    cfg.StrOpt("endpoint_url", help="One URL for EC2 (another implementation of the AWS "
               "APIs); unset: the real regional endpoints."),
    cfg.FloatOpt("connect_timeout", default=10.0, help="Seconds to connect to AWS."),
    cfg.FloatOpt("read_timeout", default=30.0, help="Seconds to wait for an AWS answer."),
    cfg.IntOpt("max_attempts", default=3, help="botocore standard-mode attempts."),
]
YANDEX_OPTS = [
    cfg.StrOpt("endpoint", default=yandex.DEFAULT_ENDPOINT,
               help="host:port of the Yandex.Cloud API endpoint (endpoint discovery)."),
    cfg.StrOpt("root_certificates_file",
               help="PEM bundle that verifies the endpoint's TLS certificate. Unset: the "
               "system's trust store."),
    cfg.FloatOpt("timeout", default=30.0, help="Deadline in seconds of every Yandex.Cloud "
                 "call."),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Idempotent: each driver of a process may call it."""
    ks_loading.register_session_conf_options(conf, CLOUDS_GROUP)
    ks_loading.register_auth_conf_options(conf, CLOUDS_GROUP)
    ks_loading.register_adapter_conf_options(conf, CLOUDS_GROUP)
    conf.set_default("service_type", "clouds", group=CLOUDS_GROUP)
    conf.set_default("timeout", DEFAULT_TIMEOUT, group=CLOUDS_GROUP)
    conf.register_opts(AWS_OPTS, group=AWS_GROUP)
    conf.register_opts(YANDEX_OPTS, group=YANDEX_GROUP)


def clouds_client(conf: cfg.ConfigOpts) -> CloudsClient:
    register_opts(conf)
    auth = ks_loading.load_auth_from_conf_options(conf, CLOUDS_GROUP)
    session = ks_loading.load_session_from_conf_options(conf, CLOUDS_GROUP, auth=auth)
    adapter = ks_loading.load_adapter_from_conf_options(conf, CLOUDS_GROUP,
                                                        session=session, auth=auth)
    return CloudsClient(adapter, timeout=conf[CLOUDS_GROUP].timeout or DEFAULT_TIMEOUT)


def aws_provider(conf: cfg.ConfigOpts) -> aws.AwsProvider:
    register_opts(conf)
    group = conf[AWS_GROUP]
    return aws.AwsProvider(aws.Settings(
        endpoint_url=group.endpoint_url, connect_timeout=group.connect_timeout,
        read_timeout=group.read_timeout, max_attempts=group.max_attempts))


def yandex_provider(conf: cfg.ConfigOpts) -> yandex.YandexProvider:
    register_opts(conf)
    group = conf[YANDEX_GROUP]
    certificates = None
    if group.root_certificates_file:
        try:
            with open(group.root_certificates_file, "rb") as pem:
                certificates = pem.read()
        except OSError as exc:
            raise cfg.Error(f"[{YANDEX_GROUP}] root_certificates_file: cannot read "
                            f"{group.root_certificates_file}: {exc.strerror}") from None
    return yandex.YandexProvider(yandex.Settings(
        endpoint=group.endpoint, root_certificates=certificates, timeout=group.timeout))


def account_of(project: ProjectCloud) -> Account:
    """The project's account as providers take it, holding short-lived credentials only."""
    return Account(provider=project.provider, zone=project.zone, region=project.region,
                   secrets=project.secrets, options=dict(project.options))
