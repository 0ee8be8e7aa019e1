"""Whether the inventory may stand in for a live read.

The bound is ``STALE_SYNCS`` sync intervals since the last finished sync. Within it, what the
listener missed is at most one sync old; past it node_sync is not running (or failing), so
nothing repairs the listener's gaps and readers go to Nova and Placement themselves. For HA
the bound only concerns target capacity: the failed host's instances are always read from Nova
(``cloud_manager.execution.inventory``), so a stale inventory can make a target look roomier
than it is, and Nova's scheduler then refuses the request (evacuate names the target at
microversion 2.29, which the scheduler checks) and the item is retried; it can never leave an
instance of the failed host out of the plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

STALE_SYNCS = 3


@dataclass(frozen=True)
class Freshness:
    usable: bool
    reason: str


def freshness(last_sync_finished: datetime | None, hosts: int, now: datetime,
              sync_interval: float, enabled: bool = True) -> Freshness:
    if not enabled:
        return Freshness(False, "[node_sync] enabled = false")
    if last_sync_finished is None or hosts == 0:
        return Freshness(False, "inventory empty: no sync finished yet")
    age = (now - last_sync_finished).total_seconds()
    bound = timedelta(seconds=STALE_SYNCS * sync_interval).total_seconds()
    if age > bound:
        return Freshness(False, f"inventory stale: last sync {age:.0f}s ago, over "
                         f"{STALE_SYNCS} x sync_interval ({bound:.0f}s)")
    return Freshness(True, f"last sync {age:.0f}s ago")
