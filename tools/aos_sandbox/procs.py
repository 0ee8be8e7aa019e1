"""Start, check and stop sandbox daemons through pid files.

Each daemon runs in its own session (process group), so stopping it also stops every child
it spawned. A pid file holds the pid and the kernel start time, so a recycled pid is never
mistaken for a live daemon.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from .config import Settings


def _start_time(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def pidfile(settings: Settings, name: str) -> Path:
    return settings.run_dir / f"{name}.pid"


def read_pid(settings: Settings, name: str) -> int | None:
    """The pid of daemon `name` if it is alive, else None."""
    try:
        pid_s, started = pidfile(settings, name).read_text().split()
        pid = int(pid_s)
    except (OSError, ValueError):
        return None
    state = _proc_state(pid)
    if _start_time(pid) != started or state in (None, "Z"):
        return None
    return pid


def _proc_state(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


def spawn(
    settings: Settings,
    name: str,
    argv: Sequence[str | os.PathLike],
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> int:
    """Start `argv` as daemon `name`, output to log/<name>.log; return its pid."""
    settings.log_dir.mkdir(parents=True, exist_ok=True)
    settings.run_dir.mkdir(parents=True, exist_ok=True)
    full_env = {**os.environ, **(env or {})}
    with open(settings.log_dir / f"{name}.log", "ab") as log:
        log.write(f"\n===== {time.strftime('%F %T')} starting {name}\n".encode())
        log.flush()
        proc = subprocess.Popen(
            [str(a) for a in argv],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=full_env,
            cwd=cwd or settings.state,
            start_new_session=True,
        )
    pidfile(settings, name).write_text(f"{proc.pid} {_start_time(proc.pid)}\n")
    with open(settings.run_dir / "sessions", "a") as sessions:
        sessions.write(f"{proc.pid}\n")
    return proc.pid


def kill(settings: Settings, name: str, sig: int = signal.SIGKILL) -> int | None:
    """Send `sig` to the whole process group of daemon `name`; return its pid."""
    pid = read_pid(settings, name)
    if pid is not None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, sig)
    return pid


def stop_all(settings: Settings, names: Sequence[str], timeout: float = 10.0) -> None:
    """SIGTERM the daemons, wait up to `timeout`, then SIGKILL what is left."""
    pids = {n: p for n in names if (p := kill(settings, n, signal.SIGTERM)) is not None}
    deadline = time.monotonic() + timeout
    while pids and time.monotonic() < deadline:
        pids = {n: p for n, p in pids.items() if _group_alive(p)}
        time.sleep(0.2)
    for pid in pids.values():
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
    for name in names:
        pidfile(settings, name).unlink(missing_ok=True)


def _group_alive(pgid: int) -> bool:
    for pid in _all_pids():
        try:
            if os.getpgid(pid) == pgid and _proc_state(pid) != "Z":
                return True
        except OSError:
            continue
    return False


def _all_pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


OWNER_ENV = "AOS_SANDBOX_OWNER"


def mark_owner(settings: Settings) -> None:
    """Tag this process's environment so every process it starts can be found again."""
    os.environ[OWNER_ENV] = str(settings.state)


def _sessions(settings: Settings) -> set[int]:
    """Session ids of every daemon started since the last clean `down`."""
    found = set()
    for path in [settings.run_dir / "sessions", *settings.run_dir.glob("*.pid")]:
        try:
            found |= {int(x) for x in path.read_text().split()[: 1 if path.suffix else None]}
        except (OSError, ValueError):
            continue
    return found


def forget_sessions(settings: Settings) -> None:
    (settings.run_dir / "sessions").unlink(missing_ok=True)


def leftovers(settings: Settings) -> list[tuple[int, str]]:
    """Live processes started by the sandbox (should be none after `down`).

    Found by session id (every daemon starts its own session) or, for a process that
    left its session, by the AOS_SANDBOX_OWNER variable it inherited.
    """
    marker = f"{OWNER_ENV}={settings.state}".encode()
    sessions = _sessions(settings)
    me = os.getpid()
    found = []
    for pid in _all_pids():
        if pid == me or _proc_state(pid) in (None, "Z"):
            continue
        try:
            sid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[3])
            ours = sid in sessions or marker in Path(f"/proc/{pid}/environ").read_bytes().split(
                b"\0"
            )
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, ValueError, IndexError):
            continue
        if ours and sid != os.getsid(me):
            found.append((pid, cmd.strip()))
    return found


def _pss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def session_pss_mb(session: int) -> float:
    """PSS of a daemon with all its children (its session), in MiB."""
    total = 0
    for pid in _all_pids():
        try:
            sid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[3])
        except (OSError, ValueError, IndexError):
            continue
        if sid == session:
            total += _pss_kb(pid)
    return total / 1024


def pss_mb(settings: Settings) -> float:
    """Total proportional set size of the sandbox's processes, in MiB."""
    total_kb = 0
    for pid, _ in leftovers(settings):
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total_kb += int(line.split()[1])
        except OSError:
            continue
    return total_kb / 1024


def run(
    argv: Sequence[str | os.PathLike],
    log: Path,
    env: Mapping[str, str] | None = None,
    ok_codes: tuple[int, ...] = (0,),
    input_text: str | None = None,
) -> subprocess.CompletedProcess:
    """Run a setup command, appending its output to `log`; raise SetupError on failure."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        out.write(f"\n===== {time.strftime('%F %T')} $ {' '.join(map(str, argv))}\n".encode())
        out.flush()
        proc = subprocess.run(
            [str(a) for a in argv],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            input=input_text.encode() if input_text is not None else None,
            stdin=None if input_text is not None else subprocess.DEVNULL,
        )
    if proc.returncode not in ok_codes:
        raise SetupError(f"`{' '.join(map(str, argv))}` exited {proc.returncode}", log)
    return proc


class SetupError(RuntimeError):
    """A step of `up` failed; carries the log file to look at."""

    def __init__(self, message: str, log: Path | None = None) -> None:
        super().__init__(message)
        self.log = log

    def __str__(self) -> str:
        where = f" (see {self.log})" if self.log else ""
        return f"{self.args[0]}{where}"

    def log_tail(self, lines: int = 25) -> str:
        """The end of the log, for output read where the file is not (a CI log)."""
        try:
            text = self.log.read_text(errors="replace") if self.log else ""
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])
