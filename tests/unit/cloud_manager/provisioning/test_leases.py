from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cloud_manager.provisioning.leases import LeaseRecord, current_lease

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
MAC = "aa:bb:cc:dd:ee:ff"
HOUR = timedelta(hours=1)


def lease(ip, mac=MAC, starts=NOW - HOUR, ends=NOW + HOUR, state="active"):
    return LeaseRecord(ip=ip, mac=mac, starts=starts, ends=ends, state=state)


def test_the_current_lease_of_the_mac_wins_over_expired_freed_and_other_macs():
    leases = [lease("10.0.0.1", starts=NOW - 3 * HOUR, ends=NOW - 2 * HOUR),  # expired
              lease("10.0.0.2", mac="aa:bb:cc:dd:ee:00"),  # another machine
              lease("10.0.0.3"),
              lease("10.0.0.4", starts=NOW - HOUR / 2, state="free"),  # released since
              lease("10.0.0.5", starts=NOW + HOUR)]  # not started yet
    assert current_lease(leases, MAC, NOW).ip == "10.0.0.3"


def test_of_several_current_leases_the_newest_start_then_the_later_entry_wins():
    assert current_lease([lease("10.0.0.7", starts=NOW - HOUR / 4), lease("10.0.0.8")],
                         MAC, NOW).ip == "10.0.0.7"
    assert current_lease([lease("10.0.0.7"), lease("10.0.0.8")], MAC, NOW).ip == "10.0.0.8"


def test_an_infinite_lease_is_current_and_no_lease_is_none():
    assert current_lease([lease("10.0.0.9", ends=None)], MAC, NOW).ip == "10.0.0.9"
    assert current_lease([lease("10.0.0.1", ends=NOW - HOUR / 2)], MAC, NOW) is None
    assert current_lease([], MAC, NOW) is None
