"""Reads ISC dhcpd lease files (``[DEFAULT] dhcp_leases``) with the isc_dhcp_leases library."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable

from isc_dhcp_leases import IscDhcpLeases, Lease

from cloud_manager.provisioning.leases import LeaseRecord

LOG = logging.getLogger(__name__)


class LeasesUnreadable(Exception):
    """None of the configured lease files could be read."""


def read_leases(paths: Iterable[str]) -> list[LeaseRecord]:
    """Every IPv4 lease entry of the files, in file order; a missing file is skipped (a
    controller lists both usual locations), but not one of them readable is an error."""
    paths = list(paths)
    records: list[LeaseRecord] = []
    problems = []
    read_any = False
    for path in paths:
        if not os.path.exists(path):
            problems.append(f"{path}: no such file")
            continue
        try:
            leases = IscDhcpLeases(path).get()
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            LOG.warning("DHCP lease file %s cannot be read: %s", path, exc)
            problems.append(f"{path}: {getattr(exc, 'strerror', None) or exc}")
            continue
        read_any = True
        records += [LeaseRecord(ip=lease.ip, mac=(lease.ethernet or "").lower() or None,
                                starts=lease.start, ends=lease.end,
                                state=lease.binding_state, source=path)
                    for lease in leases if isinstance(lease, Lease)]
    if not read_any:
        raise LeasesUnreadable("[DEFAULT] dhcp_leases: no lease file could be read ("
                               + ("; ".join(problems) or "none configured") + ")")
    return records
