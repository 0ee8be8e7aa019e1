"""What the services prepare at start."""

from __future__ import annotations

import logging
import socket

from aos import conf as aos_conf
from aos import modules
from cloud_manager import runtime as cm_runtime


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_tracker_starts_even_when_the_task_queue_does_not_answer(aos_env, caplog):
    (aos_env["etc"] / "cloud_manager.conf").write_text(
        f"[DEFAULT]\ntransport_url = rabbit://aos:secret@127.0.0.1:{_closed_port()}/\n")
    runtime = cm_runtime.build(aos_conf.load(modules.get("cloud_manager")))
    with caplog.at_level(logging.WARNING, logger="cloud_manager.runtime"):
        runtime.connect_task_queue()
    assert "cannot reach the task queue yet" in caplog.text
    assert "secret" not in caplog.text
