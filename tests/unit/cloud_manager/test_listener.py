"""The Nova notification listener service starts (its message bus may still be unreachable)."""

import signal
import socket
import subprocess
import time

from tests.conftest import venv_bin


def test_listener_keeps_running_with_aos_transport_url_set(aos_env, tmp_path):
    with socket.socket() as sock:  # a free port: nothing answers there, the listener retries
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    (aos_env["etc"] / "cloud_manager.conf").write_text(
        f"[DEFAULT]\ntransport_url = rabbit://aos:secret@127.0.0.1:{port}/\n")
    log = tmp_path / "listener.log"
    proc = subprocess.Popen([venv_bin("aos-cloud-manager-listener"), "--log-file", str(log)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        # Past its set-up, it connects to the bus (and retries: nothing listens there).
        while "Connection failed" not in (log.read_text() if log.exists() else ""):
            assert proc.poll() is None, log.read_text() if log.exists() else "no log"
            assert time.monotonic() < deadline, "the listener never tried the message bus"
            time.sleep(0.5)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
