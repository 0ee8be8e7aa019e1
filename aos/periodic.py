"""A job run every ``interval`` seconds on the leader controller only."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable


def run_on_leader(job: Callable[[], object], interval: float, is_leader: Callable[[], bool],
                  stopped: Callable[[], bool], log: logging.Logger, name: str,
                  sleep: Callable[[float], None] = time.sleep,
                  monotonic: Callable[[], float] = time.monotonic) -> None:
    """Start to start every ``interval``; a failing run is logged and the next one comes on
    time (the remote side or the database may answer then)."""
    while not stopped():
        next_run = monotonic() + interval
        if is_leader():
            try:
                job()
            except Exception:  # noqa: BLE001 - one bad run never stops the loop
                log.exception("%s failed; trying again in %ss", name, interval)
        sleep(max(0.0, next_run - monotonic()))
