"""Which nova-compute reports count as a sign of life."""

from __future__ import annotations

import socket
from datetime import datetime, timedelta

import pytest
from oslo_config import cfg

from cloud_manager.heartbeat import Heartbeats
from cloud_manager.nova import ComputeService

NOW = datetime(2026, 11, 22, 12, 0, 0)


def _heartbeats(timeout: int = 10, nova_db: str = "", db_timeout: float = 5) -> Heartbeats:
    conf = cfg.ConfigOpts()
    conf.register_opts([cfg.IntOpt("service_timeout", default=timeout)], "node_tracker")
    conf.register_opts([cfg.StrOpt("url", default=nova_db),
                        cfg.FloatOpt("timeout", default=db_timeout)], "nova_database")
    conf([])
    return Heartbeats(conf)


def _service(up: bool = True, forced_down: bool = False,
             updated_at: datetime | None = None) -> ComputeService:
    return ComputeService(id="1", host="c1", up=up, enabled=not forced_down,
                          forced_down=forced_down, disabled_reason=None, updated_at=updated_at)


def test_last_seen_within_service_timeout_is_reporting():
    hb = _heartbeats(timeout=10)
    assert hb.is_reporting(_service(), {"c1": NOW - timedelta(seconds=9)}, None, NOW)
    assert not hb.is_reporting(_service(), {"c1": NOW - timedelta(seconds=11)}, None, NOW)


def test_a_report_older_than_the_dead_verdict_does_not_bring_a_host_back():
    """A host powered off one second after its last report must not look alive."""
    hb = _heartbeats(timeout=10)
    last_report = NOW - timedelta(seconds=3)
    fenced_at = NOW - timedelta(seconds=2)
    assert not hb.is_reporting(_service(forced_down=True), {"c1": last_report}, fenced_at, NOW)
    newer = NOW - timedelta(seconds=1)
    assert hb.is_reporting(_service(forced_down=True), {"c1": newer}, fenced_at, NOW)


def test_without_novas_database_a_forced_down_host_reports_when_updated_at_moves():
    hb = _heartbeats(timeout=10)
    fenced_at = NOW - timedelta(seconds=5)
    before = _service(up=False, forced_down=True, updated_at=fenced_at)
    after = _service(up=False, forced_down=True, updated_at=NOW - timedelta(seconds=1))
    assert not hb.is_reporting(before, None, fenced_at, NOW)
    assert hb.is_reporting(after, None, fenced_at, NOW)
    assert hb.is_reporting(_service(up=True), None, None, NOW)


def test_without_novas_database_a_host_forced_down_by_someone_else_counts_by_its_reports():
    """No verdict of ours to compare with: a fresh updated_at is a report, a stale one is not.

    A host that an operator forced down while it still runs must not be fenced; one that
    recovers and dies again (CloudManager's force_down still set) must be seen dead.
    """
    hb = _heartbeats(timeout=10)
    reporting = _service(up=False, forced_down=True, updated_at=NOW - timedelta(seconds=1))
    silent = _service(up=False, forced_down=True, updated_at=NOW - timedelta(seconds=11))
    assert hb.is_reporting(reporting, None, None, NOW)
    assert not hb.is_reporting(silent, None, None, NOW)


def test_reporting_until_lists_only_hosts_reporting_now():
    hb = _heartbeats(timeout=10)
    seen = {"c1": NOW - timedelta(seconds=4), "c2": NOW - timedelta(seconds=11)}
    assert hb.reporting_until(seen, NOW) == {"c1": NOW + timedelta(seconds=6)}
    assert hb.reporting_until(None, NOW) == {}


@pytest.mark.timeout(30)
def test_a_nova_database_that_stops_answering_falls_back_instead_of_hanging():
    """The tracker's loop reads heartbeats every check: a hung read must end, and the check
    then uses the API's service state (None)."""
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts, never answers
        port = silent.getsockname()[1]
        hb = _heartbeats(nova_db=f"mysql+pymysql://nova:secret@127.0.0.1:{port}/nova",
                         db_timeout=0.5)
        assert hb.last_seen() is None
