"""Command line of tools/sandbox (stdlib only: it runs before the venv exists)."""

from __future__ import annotations

import argparse
import fcntl
import sys

from . import contract, lifecycle, procs
from .config import load_settings
from .procs import SetupError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="tools/sandbox", description="AOS OpenStack all-in-one sandbox"
    )
    sub = p.add_subparsers(dest="cmd", required=True)
    up = sub.add_parser("up", help="install if needed and start everything (idempotent)")
    up.add_argument(
        "--computes", type=int, default=3, help="number of fake compute hosts (default 3)"
    )
    up.add_argument(
        "--spare-hosts", type=int, default=1,
        help="bare hosts bare1..N: a BMC (off) but no nova-compute until powered on "
        "(default 1)",
    )
    up.add_argument("--only", choices=["infra"], help="start only MariaDB + RabbitMQ")
    down = sub.add_parser("down", help="stop every sandbox process")
    down.add_argument(
        "--purge", action="store_true", help="also delete state and databases (not the venv)"
    )
    sub.add_parser("status", help="one line per service; exit 3 if something is down")
    for name, what in (
        ("kill-host", "SIGKILL a host's nova-compute"),
        ("start-host", "start a host's nova-compute"),
    ):
        sub.add_parser(name, help=what).add_argument("host")
    for name, what in (
        ("stop-service", "stop cinder-volume or cinder-scheduler"),
        ("start-service", "start cinder-volume or cinder-scheduler again"),
    ):
        sub.add_parser(name, help=what).add_argument("service")
    env = sub.add_parser("env", help="print export OS_... lines")
    env.add_argument("--project", choices=["admin", "demo"], default="admin")
    return p


MUTATING = {"up", "down", "kill-host", "start-host", "stop-service", "start-service"}


def _lock(s) -> None:
    """Serialize commands that change the sandbox (two test runs may call `up` at once).

    The lock is held until this process exits.
    """
    s.run_dir.mkdir(parents=True, exist_ok=True)
    handle = open(s.run_dir / "sandbox.lock", "w")  # noqa: SIM115 - kept open on purpose
    fcntl.flock(handle, fcntl.LOCK_EX)
    _held.append(handle)


_held: list = []


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    s = load_settings()
    procs.mark_owner(s)
    try:
        if args.cmd in MUTATING:
            _lock(s)
        if args.cmd == "up":
            return lifecycle.up(s, computes=args.computes, only_infra=args.only == "infra",
                                spare_hosts=args.spare_hosts)
        if args.cmd == "down":
            return lifecycle.down(s, purge=args.purge)
        if args.cmd == "status":
            return lifecycle.status(s)
        if args.cmd == "kill-host":
            return lifecycle.kill_host(s, args.host)
        if args.cmd == "start-host":
            return lifecycle.start_host(s, args.host)
        if args.cmd == "stop-service":
            return lifecycle.stop_service(s, args.service)
        if args.cmd == "start-service":
            return lifecycle.start_service(s, args.service)
        if args.cmd == "env":
            print("\n".join(contract.env_lines(s, args.project)))
            return 0
    except SetupError as err:
        print(f"[sandbox] ERROR: {err}", file=sys.stderr, flush=True)
        tail = err.log_tail()
        if tail:
            print(f"[sandbox] the end of {err.log}:\n{tail}", file=sys.stderr, flush=True)
        return 1
    return 2
