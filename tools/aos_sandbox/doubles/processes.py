"""Start, check and stop the two double servers as background processes of their own.

Each server runs in its own session (process group) from the doubles venv; its pid, kernel
start time and port are kept in state_dir/run/<name>.json, so a recycled pid is never mistaken
for a live server and status() works from any process.  Stdlib only.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import venv
from .ycloud import config as yc

HOST = "127.0.0.1"
AWS_REGION = "us-east-2"
START_TIMEOUT = 60.0
PACKAGE_PARENT = Path(__file__).resolve().parent.parent  # holds the `doubles` package


@dataclass(frozen=True)
class Server:
    name: str  # "aws" or "yandex"
    module: str
    port_env: str
    default_port: int

    def port(self) -> int:
        return int(os.environ.get(self.port_env, self.default_port))

    def command(self, state_dir: Path, port: int) -> list[str]:
        cmd = [
            str(venv.venv_python(state_dir)),
            "-m",
            self.module,
            "--host",
            HOST,
            "--port",
            str(port),
        ]
        if self.name == "yandex":
            cmd += ["--state-dir", str(state_dir)]
        return cmd

    def url(self, port: int) -> str:
        return f"http://{HOST}:{port}" if self.name == "aws" else f"{HOST}:{port}"


AWS = Server("aws", "doubles.aws", "AOS_DOUBLES_AWS_PORT", 15000)
YANDEX = Server("yandex", "doubles.ycloud", "AOS_DOUBLES_YANDEX_PORT", yc.DEFAULT_PORT)
SERVERS = (AWS, YANDEX)


def _run_file(state_dir: Path, server: Server) -> Path:
    return state_dir / "run" / f"{server.name}.json"


def _start_time(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def _record(state_dir: Path, server: Server) -> dict[str, Any] | None:
    """The run record of a live server process, or None (stale records are removed)."""
    path = _run_file(state_dir, server)
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if _start_time(record["pid"]) != record["start_time"]:
        path.unlink(missing_ok=True)
        (path.with_suffix(".pid")).unlink(missing_ok=True)
        return None
    return record


def _answers(state_dir: Path, server: Server, port: int) -> bool:
    """AWS: any HTTP reply.  Yandex: a TLS handshake (h2) verified with the generated CA."""
    try:
        if server is AWS:
            with contextlib.suppress(urllib.error.HTTPError):  # an HTTP error is an answer too
                urllib.request.urlopen(f"http://{HOST}:{port}/moto-api/", timeout=2).close()
            return True
        ca = yc.ca_file(state_dir)
        if not ca.exists():
            return False
        context = ssl.create_default_context(cafile=str(ca))
        context.set_alpn_protocols(["h2"])
        with (
            socket.create_connection((HOST, port), timeout=2) as sock,
            context.wrap_socket(sock, server_hostname=HOST),
        ):
            return True
    except (OSError, ssl.SSLError):
        return False


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def _launch(state_dir: Path, server: Server) -> dict[str, Any]:
    port = server.port()
    log_dir = state_dir / "log"
    log_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PYTHONPATH=str(PACKAGE_PARENT), PYTHONUNBUFFERED="1")
    env.pop("PYTHONHOME", None)
    with open(log_dir / f"{server.name}.log", "ab") as log:
        proc = subprocess.Popen(
            server.command(state_dir, port),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=state_dir,
            start_new_session=True,
        )
    record = {
        "pid": proc.pid,
        "start_time": _start_time(proc.pid),
        "port": port,
        "url": server.url(port),
    }
    run = _run_file(state_dir, server)
    run.parent.mkdir(parents=True, exist_ok=True)
    run.write_text(json.dumps(record))
    run.with_suffix(".pid").write_text(f"{proc.pid}\n")
    return record


def _wait(state_dir: Path, server: Server, record: dict[str, Any], deadline: float) -> None:
    while time.monotonic() < deadline:
        if _record(state_dir, server) is None:
            log = state_dir / "log" / f"{server.name}.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{server.name} double exited during start-up; log tail:\n{tail}")
        if _answers(state_dir, server, record["port"]):
            return
        time.sleep(0.1)
    raise RuntimeError(
        f"{server.name} double did not answer on port {record['port']} in {START_TIMEOUT:.0f}s"
    )


def endpoints(state_dir: Path, aws_port: int, yandex_port: int) -> dict[str, Any]:
    """What clients need to reach the doubles (the dict start() returns)."""
    return {
        "aws": {
            "endpoint_url": AWS.url(aws_port),
            "region": AWS_REGION,
            "access_key": "testing",
            "secret_key": "testing",
        },
        "yandex": {
            "endpoint": YANDEX.url(yandex_port),
            "root_certificates_file": str(yc.ca_file(state_dir)),
            "service_account_key_file": str(yc.sa_key_file(state_dir)),
            "folder_id": yc.FOLDER_ID,
            "zone": yc.DEFAULT_ZONE,
        },
    }


def start(state_dir: Path) -> dict[str, Any]:
    """Start whichever server is not running (in parallel), wait until both answer.

    On failure, servers launched by this call are stopped again; ones that were already
    running are left alone.
    """
    state_dir = Path(state_dir).resolve()
    venv.install(state_dir)
    records = {s.name: _record(state_dir, s) for s in SERVERS}
    missing = [s for s in SERVERS if records[s.name] is None]
    for server in missing:  # check every port first, so a clash launches nothing
        if not _port_free(server.port()):
            raise RuntimeError(
                f"{server.name} double: port {server.port()} on {HOST} is taken by another "
                f"process; stop it or set {server.port_env}"
            )
    launched: list[Server] = []
    try:
        for server in missing:
            records[server.name] = _launch(state_dir, server)
            launched.append(server)
        deadline = time.monotonic() + START_TIMEOUT
        for server in SERVERS:
            _wait(state_dir, server, records[server.name], deadline)
    except BaseException:
        for server in launched:
            _stop_one(state_dir, server)
        raise
    return endpoints(state_dir, records["aws"]["port"], records["yandex"]["port"])


def _kill(pid: int, start_time: str) -> None:
    """SIGTERM the server's process group, SIGKILL what is left after 5 s."""
    for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if _start_time(pid) != start_time:
                return
            with contextlib.suppress(ChildProcessError):  # reap it if it is our own child
                os.waitpid(pid, os.WNOHANG)
            time.sleep(0.05)


def _stop_one(state_dir: Path, server: Server) -> None:
    record = _record(state_dir, server)
    if record is not None:
        _kill(record["pid"], record["start_time"])
    run = _run_file(state_dir, server)
    run.unlink(missing_ok=True)
    run.with_suffix(".pid").unlink(missing_ok=True)


def stop(state_dir: Path) -> None:
    """Stop both servers of this state dir (their whole process groups)."""
    state_dir = Path(state_dir).resolve()
    for server in SERVERS:
        _stop_one(state_dir, server)


def status(state_dir: Path) -> dict[str, Any]:
    state_dir = Path(state_dir).resolve()
    result = {}
    for server in SERVERS:
        record = _record(state_dir, server)
        port = record["port"] if record else server.port()
        result[server.name] = {
            "pid": record["pid"] if record else None,
            "up": bool(record) and _answers(state_dir, server, port),
            "url": server.url(port),
        }
    return result
