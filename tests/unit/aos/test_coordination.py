"""Leadership's MySQL lock session cannot hang on a server that stops answering."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import pytest
from tooz import ToozError
from tooz.drivers.mysql import MySQLLock

from aos import coordination


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
