"""storage_sync: every ``[storage_sync] sync_interval`` the state of Cinder's pools into the
database, on the leader only; a pool that goes down (or away) or comes back is an event.

Cinder unreachable is a failed sync, recorded and logged: it changes no pool (unknown is not
down). The decisions are pure (``cloud_manager.inventory.storage``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from aos import periodic
from cloud_manager.cinder import CinderError, pool_users, users_by_pool
from cloud_manager.db import api as db_api
from cloud_manager.inventory.storage import PoolTransition, storage_changes
from cloud_manager.model.storage import PoolRecord, PoolState
from cloud_manager.runtime import Runtime

LOG = logging.getLogger(__name__)
EVENT_KIND = "storage"


@dataclass(frozen=True)
class StorageSyncResult:
    ok: bool
    pools: int
    transitions: tuple[PoolTransition, ...] = ()
    message: str = ""


class StorageSync:
    def __init__(self, runtime: Runtime, clock: Callable[[], float] = time.time,
                 still_leader: Callable[[], bool] = lambda: True) -> None:
        self.runtime = runtime
        self.conf = runtime.conf.storage_sync
        self.clock = clock
        self.still_leader = still_leader

    def sync(self) -> StorageSyncResult | None:
        """One sync; None when leadership was lost before writing."""
        read_at = db_api.from_timestamp(self.clock())
        cinder = self.runtime.cinder
        try:
            with ThreadPoolExecutor(max_workers=3) as pool:  # independent reads, at once
                reports = pool.submit(cinder.pools)
                services = pool.submit(cinder.volume_services)
                volumes = pool.submit(cinder.attached_volumes)
                reports_, services_, volumes_ = (reports.result(), services.result(),
                                                 volumes.result())
        except CinderError as exc:
            message = f"sync failed: Cinder did not answer: {exc}"
            LOG.error("storage_sync %s; pools keep their state", message)
            if self.still_leader():
                with self.runtime.transaction() as session:
                    db_api.add_storage_sync(session, started_at=read_at, ok=False, pools=0,
                                            message=message)
            return StorageSyncResult(False, 0, message=message)
        if not self.still_leader():
            LOG.error("storage_sync: no longer the leader; this sync writes nothing")
            return None
        with self.runtime.transaction() as session:
            stored = db_api.storage_pools(session)
            names = sorted({r.name for r in reports_} | set(stored))
            users = users_by_pool(pool_users(volumes_), names)
            retention = self.conf.forget_gone_after
            changes = storage_changes(stored, reports_, services_, users, read_at,
                                      timedelta(seconds=retention) if retention else None)
            db_api.write_pools(session, changes.pools)
            db_api.forget_pools(session, [pool.name for pool in changes.forgotten])
            for transition in changes.transitions:
                self._announce(session, transition)
            for pool in changes.forgotten:
                message = (f"storage pool {pool.name} forgotten: gone since "
                           f"{pool.state_since:%Y-%m-%d %H:%M:%S} ({pool.state_reason})")
                LOG.info("storage_sync: %s", message)
                db_api.add_event(session, None, EVENT_KIND, message)
            message = _summary(changes.pools, changes.unjudged)
            db_api.add_storage_sync(session, started_at=read_at, ok=True,
                                    pools=len(changes.pools), message=message)
        LOG.info("storage_sync: %s", message)
        return StorageSyncResult(True, len(changes.pools), changes.transitions, message)

    @staticmethod
    def _announce(session: Session, transition: PoolTransition) -> None:
        """One storage event, and one on each compute host using the pool when it went down
        or came back (its attached volumes are concerned)."""
        bad = transition.after is not PoolState.UP
        (LOG.warning if bad else LOG.info)("storage_sync: %s", transition.message)
        db_api.add_event(session, None, EVENT_KIND, transition.message)
        if transition.before is None and not bad:
            return
        for host in transition.hosts:
            db_api.add_event(session, host, EVENT_KIND,
                             f"{transition.message} (volumes attached on this node)")


def _summary(pools: tuple[PoolRecord, ...], unjudged: tuple[str, ...]) -> str:
    states: dict[str, int] = {}
    for pool in pools:
        states[pool.state.value] = states.get(pool.state.value, 0) + 1
    text = ", ".join(f"{n} {state}" for state, n in sorted(states.items())) or "no pools"
    if unjudged:
        text += (f"; not reported while their service is up, state kept: "
                 f"{', '.join(unjudged)}")
    return f"{len(pools)} pools: {text}"


def run_forever(sync: StorageSync, is_leader: Callable[[], bool],
                stopped: Callable[[], bool] = lambda: False,
                sleep: Callable[[float], None] = time.sleep,
                monotonic: Callable[[], float] = time.monotonic) -> None:
    """``[storage_sync] enabled``: a sync every ``sync_interval`` while this is the leader."""
    periodic.run_on_leader(sync.sync, sync.conf.sync_interval, is_leader, stopped, LOG,
                           "storage_sync", sleep, monotonic)
