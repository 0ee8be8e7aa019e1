"""One-time schema setup of every service (db sync, fernet keys, keystone bootstrap, cells).

Each project's chain runs in its own thread: they touch different databases and most of
the time goes into Python start-up and Alembic, so running them side by side saves time.
A marker file per project makes a second `up` skip the chain.
"""

from __future__ import annotations

import base64
import os
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from . import procs
from .config import REGION, Settings


def _marker(s: Settings, project: str) -> Path:
    return s.state / "done" / f"db-{project}"


def _keystone(s: Settings) -> None:
    conf = s.etc / "keystone" / "keystone.conf"
    km = [s.bin("keystone-manage"), "--config-file", conf]
    log = s.log_dir / "setup-keystone.log"
    for sub in ("fernet-keys", "credential-keys"):
        _write_fernet_keys(s.state / "keystone" / sub)
    procs.run([*km, "db_sync"], log)
    url = s.auth_url
    procs.run(
        [
            *km,
            "bootstrap",
            "--bootstrap-password",
            s.secrets["admin"],
            "--bootstrap-region-id",
            REGION,
            "--bootstrap-admin-url",
            url,
            "--bootstrap-internal-url",
            url,
            "--bootstrap-public-url",
            url,
        ],
        log,
    )


def _write_fernet_keys(repo: Path) -> None:
    """What `keystone-manage fernet_setup/credential_setup` write, without 2 x 5 s of start-up:
    key 0 (staged) and key 1 (primary), each 32 random bytes, urlsafe base64."""
    repo.mkdir(parents=True, exist_ok=True, mode=0o700)
    for index in ("0", "1"):
        key = repo / index
        if not key.exists():
            key.write_bytes(base64.urlsafe_b64encode(os.urandom(32)))
            key.chmod(0o600)


def _placement(s: Settings) -> None:
    conf = s.etc / "placement" / "placement.conf"
    procs.run(
        [s.bin("placement-manage"), "--config-file", conf, "db", "sync"],
        s.log_dir / "setup-placement.log",
    )


def _glance(s: Settings) -> None:
    conf = s.etc / "glance" / "glance-api.conf"
    procs.run(
        [s.bin("glance-manage"), "--config-file", conf, "db_sync"], s.log_dir / "setup-glance.log"
    )


def _neutron(s: Settings) -> None:
    confs = [
        "--config-file",
        s.etc / "neutron" / "neutron.conf",
        "--config-file",
        s.etc / "neutron" / "ml2_conf.ini",
    ]
    procs.run(
        [s.bin("neutron-db-manage"), *confs, "upgrade", "heads"], s.log_dir / "setup-neutron.log"
    )


NOVA_MANAGE_ENV = {"OS_NOVA_DISABLE_EVENTLET_PATCHING": "true"}  # ~1 s faster per call


def _nova(s: Settings) -> None:
    conf = s.etc / "nova" / "nova.conf"
    nm = [s.bin("nova-manage"), "--config-file", conf]
    log, env = s.log_dir / "setup-nova.log", NOVA_MANAGE_ENV
    procs.run([*nm, "api_db", "sync"], log, env)
    procs.run([*nm, "cell_v2", "map_cell0"], log, env)
    procs.run([*nm, "cell_v2", "create_cell", "--name", "cell1"], log, env, ok_codes=(0, 2))
    # A plain `db sync` (cell0 + cell1) sat idle ~45 s after its last migration here;
    # two --local_cell syncs, the second pointed at the cell0 database, take ~4 s each.
    procs.run([*nm, "db", "sync", "--local_cell"], log, env)
    cell0 = s.etc / "nova" / "nova-cell0.conf"
    cell0.write_text(f"[database]\nconnection = {s.db_url('nova_cell0')}\n")
    procs.run([*nm, "--config-file", cell0, "db", "sync", "--local_cell"], log, env)


def _cinder(s: Settings) -> None:
    conf = s.etc / "cinder" / "cinder.conf"
    procs.run(
        [s.bin("cinder-manage"), "--config-file", conf, "db", "sync"],
        s.log_dir / "setup-cinder.log",
    )


CHAINS = {
    "keystone": _keystone,
    "placement": _placement,
    "glance": _glance,
    "neutron": _neutron,
    "nova": _nova,
    "cinder": _cinder,
}


def _run_chain(s: Settings, name: str) -> str:
    if not _marker(s, name).exists():
        CHAINS[name](s)
        _marker(s, name).parent.mkdir(parents=True, exist_ok=True)
        _marker(s, name).touch()
    return name


def start_all(s: Settings, pool: ThreadPoolExecutor) -> dict[str, Future]:
    """Submit every chain not done yet; each future's result is the project name."""
    todo = [name for name in CHAINS if not _marker(s, name).exists()]
    if todo:
        print(f"[sandbox] database setup: {', '.join(todo)}", flush=True)
    return {name: pool.submit(_run_chain, s, name) for name in CHAINS}


def discover_hosts(s: Settings) -> None:
    """Map newly registered computes into cell1 (nova needs it before scheduling there)."""
    procs.run(
        [
            s.bin("nova-manage"),
            "--config-file",
            s.etc / "nova" / "nova.conf",
            "cell_v2",
            "discover_hosts",
        ],
        s.log_dir / "setup-nova.log",
        NOVA_MANAGE_ENV,
    )
