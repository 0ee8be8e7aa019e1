"""Each subnet's zone as the Clouds resource map holds it, for Neutron's reads (``subnet_az``).

Neutron's own tables are not extended (no migration in Neutron's tree); the ``aws``
mechanism driver records every cloud subnet with its zone, so reads ask the map: one
listing per project, kept ``ttl`` seconds (a subnet's zone is create-only and never
changes). A subnet of a bound project missing from a kept listing is asked again at once:
it was created since (every subnet of a bound project is mapped when it is made). A Clouds
API that cannot answer leaves the zone out of reads for ``ttl`` (logged), never fails them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from clouds_drivers.clouds_api import CloudsClient
from clouds_drivers.project_clouds import BINDING_TTL

LOG = logging.getLogger(__name__)

ZONE_KEY = "availability_zone"


class SubnetZones:
    def __init__(self, client: CloudsClient, ttl: float = BINDING_TTL,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self.ttl = ttl
        self.clock = clock
        self._listings: dict[str, tuple[float, dict[str, str] | None]] = {}
        self._lock = threading.Lock()

    def zone(self, project_id: str | None, subnet_id: str) -> str | None:
        """The subnet's zone; None for projects bound to no cloud or when unknown."""
        if not project_id:
            return None
        now = self.clock()
        with self._lock:
            cached = self._listings.get(project_id)
        if cached is not None:
            fetched, zones = cached
            if now - fetched < self.ttl and (zones is None or subnet_id in zones):
                return (zones or {}).get(subnet_id)
        zones = self._fetch(project_id)
        with self._lock:
            self._listings[project_id] = (now, zones)
        return (zones or {}).get(subnet_id)

    def _fetch(self, project_id: str) -> dict[str, str] | None:
        """The project's subnet zones; None when it is bound to no cloud, or when the Clouds
        API cannot say (then no zone is shown until the next listing)."""
        try:
            listed = self.client.resources(project_id, "subnet")
        except Exception as exc:  # noqa: BLE001 - a read of Neutron's must never fail for it
            LOG.warning("subnet zones of project %s not shown: %s", project_id, exc)
            return None
        if listed is None:
            return None
        return {item["openstack_id"]: (item.get("data") or {})[ZONE_KEY]
                for item in listed if (item.get("data") or {}).get(ZONE_KEY)}
