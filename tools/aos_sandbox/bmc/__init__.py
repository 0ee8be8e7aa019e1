"""Emulated BMCs (IPMI + Redfish) for the sandbox's fake compute hosts.

CloudManager must fence hosts through real protocols, so each fake host gets a BMC on
loopback whose power-off runs `tools/sandbox kill-host HOST` and power-on runs
`start-host`. All BMCs live in one background process (server.py); `start`/`stop`
manage it for the sandbox's `up`/`down`. This module is stdlib-only: the caller's
interpreter need not have pyghmi, only `python` (which runs the server) must.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

from . import credentials, probe
from .power import REPORTS, report_path

SERVER = Path(__file__).resolve().parent / "server.py"
IPMI_PORT_BASE_ENV = "AOS_SANDBOX_BMC_IPMI_PORT_BASE"
REDFISH_PORT_BASE_ENV = "AOS_SANDBOX_BMC_REDFISH_PORT_BASE"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 40.0  # the server lets queued power commands finish first


def start(
    state_dir: Path,
    hosts: list[str],
    sandbox_cmd: Path,
    python: Path,
    *,
    ipmi_port_base: int | None = None,
    redfish_port_base: int | None = None,
) -> dict:
    """Start (or keep) the BMC process for `hosts`; return each host's endpoints.

    Idempotent: a running BMC process for the same hosts, ports and command is kept
    (with its password); any other one is stopped and replaced. Returns only once
    every BMC answers on both protocols.
    """
    state_dir = Path(state_dir).resolve()
    if not hosts:
        stop(state_dir)
        return {}
    sandbox_cmd = Path(sandbox_cmd).resolve()
    ipmi_base = ipmi_port_base or int(os.environ.get(IPMI_PORT_BASE_ENV, 16231))
    redfish_base = redfish_port_base or int(os.environ.get(REDFISH_PORT_BASE_ENV, 16301))
    wanted = {
        "hosts": list(hosts),
        "sandbox_cmd": str(sandbox_cmd),
        "ipmi_port_base": ipmi_base,
        "redfish_port_base": redfish_base,
    }

    current = _running_endpoints(state_dir)
    if current and all(current.get(k) == v for k, v in wanted.items()):
        result = _with_password(state_dir, current["endpoints"])
        if _all_answer(result, timeout=2.0):
            return result
    stop(state_dir)

    log_dir = state_dir / "log"
    log_dir.mkdir(parents=True, exist_ok=True)
    argv = [
        str(python),
        str(SERVER),
        "--state-dir",
        str(state_dir),
        "--hosts",
        ",".join(hosts),
        "--sandbox-cmd",
        str(sandbox_cmd),
        "--ipmi-port-base",
        str(ipmi_base),
        "--redfish-port-base",
        str(redfish_base),
    ]
    with open(log_dir / "bmc.log", "ab") as log:
        # Own session: a Ctrl-C in the shell that ran `sandbox up` must not kill BMCs.
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
            close_fds=True,
        )

    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"BMC server exited with {proc.returncode}; "
                f"see {log_dir / 'bmc.log'}:\n{_log_tail(log_dir)}"
            )
        current = _running_endpoints(state_dir)
        if current and current.get("pid") == proc.pid:
            result = _with_password(state_dir, current["endpoints"])
            if _all_answer(result, timeout=0.5):
                return result
        time.sleep(0.1)
    _terminate(proc.pid)
    raise RuntimeError(
        f"BMCs did not answer within {START_TIMEOUT:.0f}s; "
        f"see {log_dir / 'bmc.log'}:\n{_log_tail(log_dir)}"
    )


def set_report(state_dir: Path, host: str, report: str | None) -> None:
    """Make `host`'s BMCs answer status reads with an awkward state (one of `REPORTS`:
    powering-on, powering-off, unknown, none) until called with None. Power actions still
    act; only what the BMC says changes, as with a BMC stuck in a transition."""
    path = report_path(Path(state_dir), host)
    if report is None:
        path.unlink(missing_ok=True)
        return
    if report not in REPORTS:
        raise ValueError(f"report must be one of {REPORTS}, not {report!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(report)


def power_off_at_start(state_dir: Path, host: str) -> None:
    """Make `host`'s BMC start out saying "off" (a bare host: nothing runs on it yet); the
    BMC process reads it when it (re)starts for a new list of hosts."""
    path = Path(state_dir) / "bmc" / f"{host}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"power": "off", "changed_at": time.time(), "by": "sandbox",
                                "action": "bare host"}))


def stop(state_dir: Path) -> None:
    """Stop the BMC process of `state_dir` if it runs; leaves no process behind."""
    state_dir = Path(state_dir).resolve()
    pid_file = state_dir / "run" / "bmc.pid"
    pids = set(_servers_of(state_dir))  # also finds one whose pid file was deleted
    pid = _read_pid(pid_file)
    if pid is not None and _is_our_server(pid, state_dir):
        pids.add(pid)
    for pid in sorted(pids):
        _terminate(pid)
    pid_file.unlink(missing_ok=True)
    (state_dir / "bmc" / "endpoints.json").unlink(missing_ok=True)


def _terminate(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + STOP_TIMEOUT
    while time.monotonic() < deadline:
        if not _alive(pid):
            return
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    while _alive(pid):
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    """True while `pid` exists and is not a zombie (reaping it if it is our child)."""
    if _reaped(pid):
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        # A process in the middle of exiting may refuse /proc reads before it is a zombie:
        # it is gone only once the kernel says so (else our unreaped child would linger).
        return _exists(pid)
    if stat.rsplit(")", 1)[1].split()[0] != "Z":
        return True
    _reaped(pid)  # it became a zombie after the first look: reap it now, else it lingers
    return False


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _reaped(pid: int) -> bool:
    """Reap `pid` if it is our child and has exited."""
    try:
        return os.waitpid(pid, os.WNOHANG)[0] == pid
    except ChildProcessError:
        return False


def _is_our_server(pid: int, state_dir: Path) -> bool:
    """Guard against a recycled pid: the process must be server.py for this state dir."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    args = [a.decode(errors="replace") for a in cmdline]
    if not any(a.endswith("server.py") for a in args) or "--state-dir" not in args:
        return False
    given = args[args.index("--state-dir") + 1 :][:1]
    try:  # it may have been started by hand with a relative --state-dir
        cwd = Path(os.readlink(f"/proc/{pid}/cwd"))
    except OSError:
        cwd = Path("/")
    return bool(given) and (cwd / given[0]).resolve() == state_dir


def _servers_of(state_dir: Path) -> list[int]:
    """BMC server processes serving `state_dir`, found by their command line."""
    pids = []
    for entry in Path("/proc").iterdir():
        pid = int(entry.name) if entry.name.isdigit() else None
        if pid is not None and pid != os.getpid() and _is_our_server(pid, state_dir):
            pids.append(pid)
    return pids


def _read_pid(pid_file: Path) -> int | None:
    try:
        return int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None


def _running_endpoints(state_dir: Path) -> dict | None:
    try:
        data = json.loads((state_dir / "bmc" / "endpoints.json").read_text())
    except (OSError, ValueError):
        return None
    pid = data.get("pid")
    if not isinstance(pid, int) or not _alive(pid) or not _is_our_server(pid, state_dir):
        return None
    return data


def _with_password(state_dir: Path, endpoints: dict) -> dict:
    password = credentials.load(state_dir)["password"]
    return {
        host: {proto: {**info, "password": password} for proto, info in protos.items()}
        for host, protos in endpoints.items()
    }


def _all_answer(endpoints: dict, timeout: float) -> bool:
    return all(
        probe.ipmi(e["ipmi"]["address"], e["ipmi"]["port"], timeout)
        and probe.redfish(e["redfish"]["url"], timeout)
        for e in endpoints.values()
    )


def _log_tail(log_dir: Path, lines: int = 20) -> str:
    try:
        return "\n".join((log_dir / "bmc.log").read_text().splitlines()[-lines:])
    except OSError:
        return ""
