"""Nova notification listener (aos-cloud-manager-listener).

Listens to Nova's versioned notifications and records what matters for compute nodes —
service state changes and evacuations — as node events, so the node history shows Nova's side
next to CloudManager's decisions.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit, urlunsplit

import oslo_messaging
from oslo_config import cfg

from cloud_manager.db import api as db_api
from cloud_manager.runtime import Runtime, build

LOG = logging.getLogger(__name__)
TOPIC = "versioned_notifications"


def nova_transport_url(conf: cfg.ConfigOpts) -> str:
    """``[listener] nova_transport_url``, else ``[DEFAULT] transport_url`` on Nova's vhost."""
    if conf.listener.nova_transport_url:
        return conf.listener.nova_transport_url
    if not conf.transport_url:
        raise cfg.RequiredOptError("nova_transport_url", cfg.OptGroup("listener"))
    parts = urlsplit(conf.transport_url)
    vhost = conf.listener.nova_rabbit_vhost.lstrip("/")
    return urlunsplit((parts.scheme, parts.netloc, "/" + vhost, "", ""))


class NovaEvents:
    """oslo.messaging endpoint: turns notifications into node events."""

    filter_rule = oslo_messaging.NotificationFilter(
        event_type=r"^(service\.update|instance\.evacuate)$")

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def info(self, ctxt, publisher_id, event_type, payload, metadata):  # noqa: ANN001
        data = payload.get("nova_object.data", {})
        if event_type == "service.update":
            if data.get("binary") != "nova-compute":
                return None
            host = data.get("host")
            status = "disabled" if data.get("disabled") else "enabled"
            forced = ", forced down" if data.get("forced_down") else ""
            reason = f" ({data['disabled_reason']})" if data.get("disabled_reason") else ""
            message = f"nova: nova-compute {status}{forced}{reason}"
        else:
            host = data.get("host")
            message = f"nova: instance {data.get('uuid')} evacuated (now on {host})"
        with self.runtime.transaction() as session:
            db_api.add_event(session, host, "nova", message)
        LOG.info("%s: %s", host, message)
        return oslo_messaging.NotificationResult.HANDLED


def run(conf: cfg.ConfigOpts) -> None:
    # oslo.messaging registers its own transport_url on the conf it gets, which collides with
    # AOS's [DEFAULT] transport_url (DuplicateOptError): it gets a conf of its own.
    transport = oslo_messaging.get_notification_transport(cfg.ConfigOpts(),
                                                          url=nova_transport_url(conf))
    targets = [oslo_messaging.Target(topic=TOPIC)]
    listener = oslo_messaging.get_notification_listener(
        transport, targets, [NovaEvents(build(conf))], executor="threading",
        pool="aos-cloud-manager")
    listener.start()
    LOG.info("listening to Nova notifications on topic %s", TOPIC)
    try:
        listener.wait()
    finally:
        listener.stop()
