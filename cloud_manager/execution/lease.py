"""Keeps a running task's lease fresh, so a live worker is never taken over."""

from __future__ import annotations

import logging
import threading

from cloud_manager.execution.records import TaskRecords

LOG = logging.getLogger(__name__)


class LeaseRenewer:
    """Renews every third of the lease in a thread of its own (a task's steps block).

    Once the task was taken over it stops renewing; ``records.lost`` is then set and the
    task's next write or ownership check raises ``LeaseLost``.
    """

    def __init__(self, records: TaskRecords) -> None:
        self._stop = threading.Event()
        interval = records.lease.total_seconds() / 3

        def loop() -> None:
            while not self._stop.wait(interval):
                try:
                    if not records.renew():
                        LOG.warning("task %s: lease taken over by another worker; this "
                                    "worker stops", records.task_id)
                        return
                except Exception:  # noqa: BLE001 - the next renewal may succeed
                    LOG.exception("cannot renew the lease of task %s", records.task_id)

        self._thread = threading.Thread(target=loop, name=f"lease-{records.task_id}",
                                        daemon=True)

    def __enter__(self) -> LeaseRenewer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
