"""Leadership's MySQL lock session: it cannot hang on a server that stops answering, and the
threads of one beat (tracker, node_sync, balancing) use it one at a time."""

from __future__ import annotations

import socket
import threading
import time
from urllib.parse import urlsplit

import pytest
from tooz import ToozError
from tooz.drivers.mysql import MySQLLock

from aos import conf as aos_conf
from aos import coordination, modules
from aos.coordination import Leadership


@pytest.mark.timeout(30)
def test_a_silent_mysql_server_fails_the_lock_instead_of_hanging_it(monkeypatch):
    monkeypatch.setattr(coordination, "MYSQL_SESSION_TIMEOUT", 0.5)
    # The kernel accepts the connection into the backlog; no greeting ever comes.
    with socket.create_server(("127.0.0.1", 0)) as silent:
        port = silent.getsockname()[1]
        lock = MySQLLock(b"cloud_manager-tracker",
                         urlsplit(f"mysql://aos:secret@127.0.0.1:{port}/aos"), {})
        coordination._bound_mysql_session(lock)
        with pytest.raises(ToozError, match="timed out"):
            lock.acquire(blocking=False)
        assert coordination._mysql_session_holds(lock) is False
    # A server that never answers the TCP connect (a blackholed address): bounded the same way
    # (PyMySQL's own default would wait 10 s).
    lock = MySQLLock(b"cloud_manager-tracker", urlsplit("mysql://aos:secret@10.255.255.1/aos"),
                     {})
    coordination._bound_mysql_session(lock)
    assert lock._conn.connect_timeout == 0.5  # noqa: SLF001
    with pytest.raises(ToozError):
        lock.acquire(blocking=False)



def test_threads_asking_at_once_use_the_lock_one_at_a_time(aos_env):
    """tooz's MySQL lock lives on one pymysql connection, which two threads must not use at
    once (the beat crashed with "Packet sequence number wrong" on the sandbox)."""
    leadership = Leadership(aos_conf.load(modules.get("cloud_manager")), "test-lock", "me")
    inside, most = [0], [0]
    guard = threading.Lock()

    def held() -> bool:  # stands in for the backend round trip
        with guard:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
        time.sleep(0.01)
        with guard:
            inside[0] -= 1
        return True

    leadership._still_held = held  # noqa: SLF001
    try:
        assert leadership.is_leader()
        threads = [threading.Thread(target=lambda: [leadership.is_leader() for _ in range(10)])
                   for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        leadership.stop()
    assert most[0] == 1
