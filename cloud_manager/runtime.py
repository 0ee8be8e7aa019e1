"""Everything a CloudManager service needs, built once from its configuration."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass

from oslo_config import cfg

from aos import openstack
from aos import runtime as aos_runtime
from cloud_manager.agent_client import AgentClient
from cloud_manager.cinder import Cinder
from cloud_manager.module import MODULE
from cloud_manager.nova import Nova
from cloud_manager.power import PowerDriver, driver_for
from cloud_manager.task_queue import RUN_TASK, celery_app
from cloud_manager.watcher import Watcher
from cloud_manager.watcher import connect as connect_watcher

LOG = logging.getLogger(__name__)


@dataclass
class Runtime(aos_runtime.Runtime):
    @functools.cached_property
    def nova(self) -> Nova:
        return Nova(openstack.connect(self.conf))

    @functools.cached_property
    def cinder(self) -> Cinder:
        return Cinder(openstack.connect(self.conf))

    @functools.cached_property
    def watcher(self) -> Watcher:
        """The DRS (``[drs]``); raises ``WatcherError`` until Watcher can be found."""
        return connect_watcher(self.conf)

    @functools.cached_property
    def agents(self) -> AgentClient:
        """Commands to node agents; raises ``AgentNotConfigured`` on a controller that has
        ``[agent] enabled = false`` or no ``[DEFAULT] transport_url``."""
        return AgentClient.from_conf(self.conf)

    @functools.cached_property
    def celery(self):
        return celery_app(self.conf)

    def connect_task_queue(self) -> None:
        """Load Celery and connect to the broker now, not at the first dispatch: that is a
        node's failover, which would wait for both (0.2 s measured)."""
        try:
            with self.celery.producer_or_acquire() as producer:
                producer.connection.ensure_connection(max_retries=1)
        except Exception as exc:  # noqa: BLE001 - dispatching retries; the tracker re-queues
            LOG.warning("cannot reach the task queue yet (%s); tasks will be queued once "
                        "it answers", exc)

    def dispatch_task(self, task_id: str) -> None:
        """Queue a host task for the workers (by name: the sender needs no task code)."""
        self.celery.send_task(RUN_TASK, args=[task_id])

    def power_driver(self, device) -> PowerDriver:
        """A driver for a stored power device (its secret decrypted only here)."""
        return driver_for(device.driver, name=device.name, address=device.address,
                          port=device.port, username=device.username,
                          password=self.secrets.decrypt(device.secret) if device.secret else None,
                          options=device.options)


def build(conf: cfg.ConfigOpts) -> Runtime:
    return Runtime(conf=conf, sessions=aos_runtime.sessions_for(conf, MODULE))
