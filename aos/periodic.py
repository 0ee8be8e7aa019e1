"""A job run every ``interval`` seconds on the leader controller only."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

# How often a follower asks for the leader lock; the first retry after a failed run.
LEADER_POLL_S = 5.0
FIRST_RETRY_S = 10.0


def run_on_leader(job: Callable[[], object], interval: float, is_leader: Callable[[], bool],
                  stopped: Callable[[], bool], log: logging.Logger, name: str,
                  sleep: Callable[[float], None] = time.sleep,
                  monotonic: Callable[[], float] = time.monotonic) -> None:
    """Start to start every ``interval`` while this is the leader.

    A follower asks for the lock every ``LEADER_POLL_S`` and runs the job as soon as it
    leads; a failed run is tried again after ``retry_after_failure`` (doubling, up to the
    interval), not a whole interval later: until a sync succeeds what it keeps is empty or
    going stale. One bad run never stops the loop."""
    failures = 0
    while not stopped():
        started = monotonic()
        if not is_leader():
            sleep(min(interval, LEADER_POLL_S))
            continue
        try:
            job()
            failures, wait = 0, interval
        except Exception:  # noqa: BLE001 - the remote side or the database may answer next time
            wait = retry_after_failure(failures, interval)
            failures += 1
            log.exception("%s failed; trying again in %.0fs", name, wait)
        sleep(max(0.0, started + wait - monotonic()))


def retry_after_failure(failures_before: int, interval: float) -> float:
    """Seconds before the next try after the ``failures_before + 1``-th failure in a row."""
    return min(interval, FIRST_RETRY_S * 2 ** min(failures_before, 16))
