"""Which DHCP lease gives a MAC its address now.

A lease file is a journal: dhcpd appends a lease each time it changes, so one MAC has many
entries, expired and freed ones among them. The current one is active, started and not yet
ended; of several, the newest start wins (the later entry when they tie).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

_EARLIEST = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class LeaseRecord:
    """One lease entry as read from a file (times in UTC, timezone-aware; MAC lower case)."""

    ip: str
    mac: str | None
    starts: datetime | None
    ends: datetime | None  # None: an infinite lease
    state: str
    source: str = ""


def is_current(lease: LeaseRecord, now: datetime) -> bool:
    return (lease.state == "active"
            and (lease.starts is None or lease.starts <= now)
            and (lease.ends is None or now <= lease.ends))


def current_lease(leases: Iterable[LeaseRecord], mac: str, now: datetime) -> LeaseRecord | None:
    """The lease that gives ``mac`` (normalized, lower case with colons) its address now."""
    best: tuple[datetime, int] | None = None
    found = None
    for order, lease in enumerate(leases):
        if lease.mac != mac or not is_current(lease, now):
            continue
        key = (lease.starts or _EARLIEST, order)
        if best is None or key > best:
            best, found = key, lease
    return found
