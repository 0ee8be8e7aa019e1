"""Everything a Clouds service needs, built once from its configuration."""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cachetools import TTLCache
from oslo_config import cfg

from aos import openstack
from aos import runtime as aos_runtime
from clouds.module import MODULE
from clouds.openstack_adapter import OpenStack
from clouds_drivers.providers.base import Account, InstanceType, Provider

#: Seconds any one OpenStack API request may take.
OPENSTACK_TIMEOUT = 60
#: Seconds a zone's instance types are kept: `flavors register` asks once per chunk of
#: flavors, and a zone's listing takes several calls (seconds on AWS).
INSTANCE_TYPES_TTL = 600


def provider_for(conf: cfg.ConfigOpts, name: str) -> Provider:
    """The provider ``name`` with its endpoint and timeouts from ``[aws]`` / ``[yandex]``."""
    if name == "aws":
        from clouds_drivers.providers import aws

        section = conf.aws
        return aws.AwsProvider(aws.Settings(
            endpoint_url=section.endpoint_url, connect_timeout=section.connect_timeout,
            read_timeout=section.read_timeout, max_attempts=section.max_attempts,
            session_duration=section.session_duration))
    if name == "yandex":
        from clouds_drivers.providers import yandex

        section = conf.yandex
        roots = (Path(section.root_certificates_file).read_bytes()
                 if section.root_certificates_file else None)
        return yandex.YandexProvider(yandex.Settings(
            endpoint=section.endpoint, root_certificates=roots, timeout=section.timeout))
    raise ValueError(f"unknown cloud provider {name!r}")


@dataclass
class Runtime(aos_runtime.Runtime):
    @functools.cached_property
    def openstack(self) -> OpenStack:
        return OpenStack(openstack.connect(self.conf, api_timeout=OPENSTACK_TIMEOUT))

    def provider(self, name: str) -> Provider:
        return provider_for(self.conf, name)

    @functools.cached_property
    def _offered(self) -> tuple[TTLCache, threading.Lock]:
        return TTLCache(maxsize=256, ttl=INSTANCE_TYPES_TTL), threading.Lock()

    def instance_types(self, cloud_id: int, account: Account) -> list[InstanceType]:
        """The instance types offered in the account's zone, asked again after a while."""
        cache, lock = self._offered
        key = (cloud_id, account.provider, account.region, account.zone)
        with lock:
            found = cache.get(key)
        if found is None:
            found = self.provider(account.provider).instance_types(account)
            with lock:
                cache[key] = found
        return found

    @functools.cached_property
    def celery(self) -> Any:
        from aos import tasks

        return tasks.celery_app(self.conf, MODULE)

    def dispatch(self, task: str, *args: Any) -> None:
        """Queue a worker task by name (the sender needs no task code)."""
        self.celery.send_task(task, args=list(args))


def build(conf: cfg.ConfigOpts) -> Runtime:
    return Runtime(conf=conf, sessions=aos_runtime.sessions_for(conf, MODULE))
