"""Nova notification listener (aos-cloud-manager-listener).

Keeps CloudManager's inventory current between two syncs from Nova's versioned notifications
(every ``instance.*`` one says where an instance is and what it holds; ``service.update`` a
compute service's state), and records service changes and evacuations as node events, so the
node history shows Nova's side next to CloudManager's decisions.

Messages are taken in batches (oslo.messaging's batch listener): one transaction per batch,
the newest word per instance, so a burst of notifications costs a few writes, not one each.
"""

from __future__ import annotations

import logging
import multiprocessing
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import cotyledon
import oslo_messaging
from oslo_config import cfg

from aos.db.retry import retry_on_conflict
from cloud_manager.db import api as db_api
from cloud_manager.db.models import utcnow
from cloud_manager.inventory.notifications import (
    Notification,
    event_message,
    instance_of,
    newest,
    parse_timestamp,
    service_of,
)
from cloud_manager.model.inventory import InstanceRecord, ServiceRecord
from cloud_manager.runtime import Runtime, build

LOG = logging.getLogger(__name__)
TOPIC = "versioned_notifications"
# Nova sends on its own exchange (nova.config sets control_exchange = "nova"), not on
# oslo.messaging's default "openstack": a listener bound there hears nothing of Nova.
NOVA_EXCHANGE = "nova"
# Messages handed over at once, and the longest wait to fill a batch (seconds).
BATCH_SIZE = 1000
BATCH_TIMEOUT = 0.2


def nova_transport_url(conf: cfg.ConfigOpts) -> str:
    """``[listener] nova_transport_url``, else ``[DEFAULT] transport_url`` on Nova's vhost."""
    if conf.listener.nova_transport_url:
        return conf.listener.nova_transport_url
    if not conf.transport_url:
        raise cfg.RequiredOptError("nova_transport_url", cfg.OptGroup("listener"))
    parts = urlsplit(conf.transport_url)
    vhost = conf.listener.nova_rabbit_vhost.lstrip("/")
    return urlunsplit((parts.scheme, parts.netloc, "/" + vhost, "", ""))


def notification(message: Mapping[str, Any]) -> Notification:
    metadata = message.get("metadata") or {}
    return Notification(event_type=message.get("event_type") or "",
                        payload=message.get("payload") or {},
                        timestamp=parse_timestamp(metadata.get("timestamp"), utcnow()))


def apply_notifications(runtime: Runtime, notes: Iterable[Notification]) -> None:
    """Write what the notifications say into the inventory (a newer stored word wins:
    ``db_api.write_instances``) and the node events they are worth."""
    instances, services, events = [], [], []
    for note in notes:
        instance, service = instance_of(note), service_of(note)
        if instance is not None:
            instances.append(instance)
        if service is not None:
            services.append(service)
        message = event_message(note, instance, service)
        if message is not None:
            events.append(message)
    _store(runtime, newest(instances), newest(services, lambda s: s.host), events)
    for host, message in events:
        LOG.info("%s: %s", host, message)


@retry_on_conflict  # the listeners of other controllers (or workers) write the same rows
def _store(runtime: Runtime, instances: Mapping[str, InstanceRecord],
           services: Mapping[str, ServiceRecord], events: list[tuple[str, str]]) -> None:
    with runtime.transaction() as session:
        db_api.write_instances(session, instances.values())
        db_api.write_service_states(session, services.values())
        for host, message in events:
            db_api.add_event(session, host, "nova", message)


class NovaNotifications:
    """oslo.messaging batch endpoint: every batch into the inventory in one transaction."""

    filter_rule = oslo_messaging.NotificationFilter(
        event_type=r"^(service\.update|instance\..+)$")

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def info(self, messages: list[dict]) -> Any:
        notes = [notification(m) for m in messages]
        try:
            apply_notifications(self.runtime, notes)
        except Exception:  # noqa: BLE001 - one bad message must not lose the whole batch
            LOG.warning("cannot store a batch of %d notifications; storing them one by one",
                        len(notes), exc_info=True)
            for note in notes:
                try:
                    apply_notifications(self.runtime, [note])
                except Exception:  # noqa: BLE001 - requeued, it would come back forever
                    LOG.exception("cannot store %s; dropped, the next node_sync repairs "
                                  "what it said", note.event_type)
        return oslo_messaging.NotificationResult.HANDLED


def notification_listener(transport: Any, runtime: Runtime) -> Any:
    """The batch listener on Nova's versioned notifications, feeding the inventory."""
    targets = [oslo_messaging.Target(topic=TOPIC, exchange=NOVA_EXCHANGE)]
    return oslo_messaging.get_batch_notification_listener(
        transport, targets, [NovaNotifications(runtime)], executor="threading",
        pool="aos-cloud-manager", batch_size=BATCH_SIZE, batch_timeout=BATCH_TIMEOUT)


class ListenerProcess(cotyledon.Service):
    """One of ``[listener] workers`` processes: its own broker connection and database
    engine, made after the fork."""

    name = "nova-notifications"
    #: Seconds a worker has to stop (a batch not acknowledged comes again) before it is
    #: killed, also when the master died and the bus is unreachable.
    graceful_shutdown_timeout = 10

    def __init__(self, worker_id: int, conf: cfg.ConfigOpts) -> None:
        super().__init__(worker_id)
        self.conf = conf
        self.listener: Any = None

    def run(self) -> None:
        # oslo.messaging registers its own transport_url on the conf it gets, which collides
        # with AOS's [DEFAULT] transport_url (DuplicateOptError): it gets a conf of its own.
        transport = oslo_messaging.get_notification_transport(
            cfg.ConfigOpts(), url=nova_transport_url(self.conf))
        self.listener = notification_listener(transport, build(self.conf))
        self.listener.start()
        LOG.info("worker %d listening to Nova notifications on exchange %s, topic %s",
                 self.worker_id, NOVA_EXCHANGE, TOPIC)
        self.listener.wait()

    def terminate(self) -> None:
        if self.listener is not None:
            self.listener.stop()
            self.listener.wait()


def run(conf: cfg.ConfigOpts) -> None:
    nova_transport_url(conf)  # a missing option fails here, once, not in every worker
    # Forked, not spawned: the workers take the loaded configuration as it is.
    manager = cotyledon.ServiceManager(mp_context=multiprocessing.get_context("fork"))
    manager.add(ListenerProcess, workers=conf.listener.workers, args=(conf,))
    manager.run()
