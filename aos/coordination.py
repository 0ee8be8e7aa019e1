"""Leadership among controllers with tooz: only the holder of a named lock acts.

A lock rather than tooz's group election, because every tooz backend offers locks and a lock
held through a connection (MySQL, etcd lease, file descriptor) is released when its holder dies.

Holding it once is not holding it still: a MySQL connection can be killed (the server then
releases the lock and another controller takes it), an etcd lease can expire. ``is_leader()``
therefore confirms the lock at every call — the coordinator's heartbeat (which refreshes and
checks leases, and raises when the backend is gone) and, for a lock held through a database
session, the server's own word that this session holds it — and answers False at once when it
is lost, so the caller stops acting before its next step.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from pathlib import Path

from oslo_config import cfg
from tooz import coordination

from aos import conf as aos_conf

LOG = logging.getLogger(__name__)


def backend_url(conf: cfg.ConfigOpts) -> str:
    if conf.coordination.backend_url:
        return conf.coordination.backend_url
    path = aos_conf.state_path(conf) / "coordination"
    Path(path).mkdir(parents=True, exist_ok=True)
    return f"file://{path}"


def _mysql_session_holds(lock: object) -> bool:
    """tooz's MySQL lock is GET_LOCK on a session of its own: ask the server whether that
    session holds it (a killed or lost session no longer does)."""
    conn = lock._conn  # noqa: SLF001 - the session the lock lives on; tooz has no accessor
    try:
        conn.ping(reconnect=False)
        with conn.cursor() as cursor:
            cursor.execute("SELECT IS_USED_LOCK(%s) = CONNECTION_ID()", (lock.name,))
            row = cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - a session that cannot answer holds nothing sure
        LOG.warning("cannot confirm the lock %s on its MySQL session: %s", lock.name, exc)
        return False
    return bool(row and row[0])


# A MySQL server that stops answering must not hang the leader's loop: connecting, and every
# read and write of a lock's session, gives up after this many seconds (GET_LOCK is asked
# with no wait).
MYSQL_SESSION_TIMEOUT = 5.0


def _bound_mysql_session(lock: object) -> None:
    """tooz takes no timeout for MySQL from the URL and connects the lock's session lazily:
    PyMySQL applies these when it connects (the TCP connect, then the handshake and after)."""
    conn = lock._conn  # noqa: SLF001 - see _mysql_session_holds
    conn.connect_timeout = MYSQL_SESSION_TIMEOUT
    conn._read_timeout = conn._write_timeout = MYSQL_SESSION_TIMEOUT  # noqa: SLF001


# Lock classes whose hold the heartbeat alone cannot confirm, by tooz class name.
_HOLD_CHECKS: dict[str, Callable[[object], bool]] = {"MySQLLock": _mysql_session_holds}
# Lock classes whose session needs bounds tooz does not set.
_SESSION_BOUNDS: dict[str, Callable[[object], None]] = {"MySQLLock": _bound_mysql_session}


class Leadership:
    """Holds ``name`` while this process is the leader; ``is_leader()`` confirms it each call."""

    def __init__(self, conf: cfg.ConfigOpts, name: str, member: str | None = None) -> None:
        self.name = name
        self.member = member or f"{socket.gethostname()}-{os.getpid()}"
        self._coordinator = coordination.get_coordinator(backend_url(conf),
                                                         self.member.encode())
        self._coordinator.start(start_heart=True)
        self._lock = self._new_lock()
        self._leader = False
        # The beat's threads (tracker, node_sync, balancing) ask at once; a lock held
        # through one database session (tooz's MySQL driver: one pymysql connection) must
        # not be used by two threads at a time ("Packet sequence number wrong").
        self._guard = threading.Lock()

    def _new_lock(self) -> object:
        lock = self._coordinator.get_lock(self.name.encode())
        bound = _SESSION_BOUNDS.get(type(lock).__name__)
        if bound:
            bound(lock)
        return lock

    def is_leader(self) -> bool:
        with self._guard:
            return self._is_leader()

    def _is_leader(self) -> bool:
        if self._leader and not self._still_held():
            LOG.error("%s lost the lock %s: it stops acting now", self.member, self.name)
            self._leader = False
            # A fresh session for the next try; not now: the others get their chance.
            self._lock = self._new_lock()
            return False
        if not self._leader:
            try:
                self._leader = bool(self._lock.acquire(blocking=False))
            except coordination.ToozError as exc:
                LOG.warning("cannot take the lock %s: %s", self.name, exc)
                return False
            if self._leader:
                LOG.info("%s is now the leader for %s", self.member, self.name)
        return self._leader

    def _still_held(self) -> bool:
        try:
            self._coordinator.heartbeat()
        except Exception as exc:  # noqa: BLE001 - any backend failure: not sure, not leader
            LOG.warning("coordination heartbeat failed: %s", exc)
            return False
        check = _HOLD_CHECKS.get(type(self._lock).__name__)
        return check(self._lock) if check else True

    def stop(self) -> None:
        with self._guard:
            self._stop()

    def _stop(self) -> None:
        if self._leader:
            try:
                self._lock.release()
            except coordination.ToozError as exc:
                LOG.warning("cannot release the lock %s: %s", self.name, exc)
            self._leader = False
        self._coordinator.stop()
