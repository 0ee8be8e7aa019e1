"""When did each nova-compute last report?

Nova's API shows a service's ``updated_at``, which every change of the service row bumps —
forcing it down or disabling it included — so it is no heartbeat. The real one,
``last_seen_up``, is only in Nova's database: with ``[nova_database] url`` set, CloudManager
reads it there and detects a silent nova-compute after ``[node_tracker] service_timeout``.
Without it, CloudManager falls back to the API's up/down state (Nova's ``service_down_time``),
and notices a host reporting again while Nova still calls it down (forced down, or started but
not heartbeating yet) when its ``updated_at`` moves after the last change CloudManager made (the
node's ``state_since``).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import sqlalchemy as sa
from oslo_config import cfg

from aos import db
from cloud_manager.nova import ComputeService

LOG = logging.getLogger(__name__)


class Heartbeats:
    def __init__(self, conf: cfg.ConfigOpts) -> None:
        self.timeout = conf.node_tracker.service_timeout
        url = conf.nova_database.url
        self._engine = (db.create_engine(url, timeout=conf.nova_database.timeout) if url
                        else None)

    def last_seen(self) -> dict[str, datetime] | None:
        """``last_seen_up`` of every nova-compute, or None without (or failing) Nova's DB."""
        if self._engine is None:
            return None
        query = sa.text("SELECT host, last_seen_up FROM services "
                        "WHERE `binary` = 'nova-compute' AND deleted = 0")
        try:
            with self._engine.connect() as conn:
                return {host: seen for host, seen in conn.execute(query) if seen is not None}
        except sa.exc.DBAPIError as exc:
            LOG.warning("cannot read heartbeats from Nova's database (%s); using the API's "
                        "service state", exc.orig)
            return None

    def is_reporting(self, service: ComputeService, last_seen: dict[str, datetime] | None,
                     dead_since: datetime | None, now: datetime) -> bool:
        """Has the host's nova-compute reported within ``service_timeout``?

        ``dead_since``: when CloudManager concluded the host dead (or fenced it), if it did.
        Only a report newer than that counts: a host powered off a second after its last
        report must not look alive for the rest of ``service_timeout``.
        """
        if last_seen is not None and service.host in last_seen:
            seen = last_seen[service.host]
            if dead_since is not None and seen <= dead_since:
                return False
            return (now - seen).total_seconds() <= self.timeout
        if service.up and not service.forced_down:
            return True
        # Forced down, Nova's API says "down" whatever the host does, and a nova-compute that
        # has just started is "down" until its first heartbeat; either way, a nova-compute that
        # runs keeps moving updated_at. After a dead verdict only a move past it counts.
        age = service.report_age(now)
        moved = dead_since is None or (service.updated_at is not None
                                       and service.updated_at > dead_since)
        return moved and age is not None and age <= self.timeout

    def reporting_until(self, last_seen: dict[str, datetime] | None,
                        now: datetime) -> dict[str, datetime]:
        """Hosts reporting at ``now``, each with the moment its last report stops counting.

        The tracker looks again at that moment rather than at its next loop, so that a silent
        nova-compute is noticed when its report expires, not up to ``loop_time`` later.
        """
        timeout = timedelta(seconds=self.timeout)
        return {host: seen + timeout for host, seen in (last_seen or {}).items()
                if now - seen <= timeout}

    def usable_by_nova(self, service: ComputeService, last_seen: dict[str, datetime] | None,
                       now: datetime) -> bool:
        """Reporting, and up in Nova's own eyes (not forced down, heartbeat seen).

        Only then does Nova's scheduler accept the host, and does enabling it make Nova drop
        the host's COMPUTE_STATUS_DISABLED trait.
        """
        return service.up and self.is_reporting(service, last_seen, None, now)
