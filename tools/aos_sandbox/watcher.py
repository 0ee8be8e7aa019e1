"""OpenStack Watcher in the sandbox (add-on, started by ``plugins``): watcher-api on :9322,
registered in Keystone as ``infra-optim``, and watcher-decision-engine, which turns audits
into action plans; its database in the sandbox's MariaDB. No applier: AOS applies the plans.

Registered with the sandbox's admin token (``aos_sandbox.register``'s connection); every
step is find-or-create, so a second ``up`` only starts the two processes.
"""

from __future__ import annotations

import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from . import conffiles, infra, procs, services
from .config import HOST, REGION, Settings

PORT = 9322
API, ENGINE = "watcher-api", "watcher-decision-engine"
URL = f"http://{HOST}:{PORT}"


def _conf(s: Settings) -> Path:
    auth = conffiles.service_auth(s, "watcher")
    lock = s.state / "watcher" / "lock"
    lock.mkdir(parents=True, exist_ok=True)
    return conffiles._write(s.etc / "watcher" / "watcher.conf", {
        "DEFAULT": {"debug": False, "use_stderr": True, "transport_url": s.transport_url},
        "api": {"host": HOST, "port": PORT, "workers": 1},
        "database": {"connection": s.db_url("watcher")},
        "keystone_authtoken": {"www_authenticate_uri": s.auth_url, **auth,
                               "service_token_roles_required": True},
        "watcher_clients_auth": auth,
        "oslo_concurrency": {"lock_path": lock},
        "oslo_messaging_notifications": {"driver": "noop"},
        "nova_client": {"endpoint_type": "publicURL", "region_name": REGION},
        "placement_client": {"interface": "public", "region_name": REGION},
        # Audits read Nova when they start; no periodic collection between them.
        "watcher_cluster_data_model_collectors.compute": {"period": 3600},
    })


def register(s: Settings) -> None:
    """Run in the sandbox venv (openstacksdk): ``python -m aos_sandbox.watcher STATE``."""
    from aos_sandbox.register import admin_connection

    conn = admin_connection(s)
    project = conn.identity.find_project("service", domain_id="default")
    user = conn.identity.find_user("watcher", domain_id="default") or conn.identity.create_user(
        name="watcher", password=s.secrets["service"], domain_id="default",
        default_project_id=project.id)
    for role in ("admin", "service"):
        conn.identity.assign_project_role_to_user(project, user,
                                                  conn.identity.find_role(role))
    svc = conn.identity.find_service("watcher") or conn.identity.create_service(
        name="watcher", type="infra-optim")
    have = {ep.interface for ep in conn.identity.endpoints(service_id=svc.id)}
    for interface in {"public", "internal", "admin"} - have:
        conn.identity.create_endpoint(service_id=svc.id, interface=interface, url=URL,
                                      region_id=REGION)


def _services(s: Settings, conf: Path) -> list[services.Service]:
    env = {"PYTHONPATH": str(services.TOOLS_DIR), "PYTHONUNBUFFERED": "1",
           "AOS_WSGI_APP": "watcher.wsgi.api:application", "AOS_WSGI_CONFIG_FILE": str(conf)}
    api = services.Service(API, [
        s.bin("gunicorn"), "--bind", f"{HOST}:{PORT}", "--workers", "1", "--threads", "4",
        "--timeout", "120", "--graceful-timeout", "3", "--no-control-socket",
        "--name", f"aos-sandbox-{API}", "--pid", s.run_dir / f"{API}.gunicorn.pid",
        "aos_sandbox.wsgi:application"], env, URL, f"{URL}/")
    engine = services.Service(ENGINE, [s.bin(ENGINE), "--config-file", conf],
                              {"PYTHONUNBUFFERED": "1"})
    return [api, engine]


def start(state: Path) -> dict[str, Any]:
    """Database and Keystone entries (first time), then the two daemons, not waited for:
    ``up`` pays only the spawn; a client waits for the API (tests: for a strategy)."""
    s = Settings(state=state)
    if not s.bin(ENGINE).exists():
        return {"error": "python-watcher is not installed in the sandbox venv"}
    t0 = time.monotonic()
    conf = _conf(s)
    marker = s.state / "done" / "watcher"
    if not marker.exists():
        log = s.log_dir / "setup-watcher.log"
        # A fresh schema from the models (Watcher's documented alternative to replaying
        # its migrations: seconds instead of ~40 s); registration runs meanwhile.
        infra.mysql_client(s, "DROP DATABASE IF EXISTS watcher; "
                              "CREATE DATABASE watcher CHARACTER SET utf8")
        with ThreadPoolExecutor(max_workers=2) as pool:
            steps = [pool.submit(procs.run, [s.bin("watcher-db-manage"), "--config-file", conf,
                                             "create_schema"], log),
                     pool.submit(procs.run, [s.python, "-m", "aos_sandbox.watcher", s.state],
                                 log, {"PYTHONPATH": str(services.TOOLS_DIR)})]
            for step in steps:
                step.result()
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
    wanted = _services(s, conf)
    for svc in wanted:
        if procs.read_pid(s, svc.name) is None:
            services.start(s, svc)
    print(f"[sandbox] watcher started in {time.monotonic() - t0:.1f}s", flush=True)
    return {"url": URL, "service_type": "infra-optim",
            "pids": {svc.name: procs.read_pid(s, svc.name) for svc in wanted}}


def status(state: Path) -> dict[str, Any]:
    """Each daemon's pid, whether the API answers, and its memory (PSS with children)."""
    s = Settings(state=state)
    out: dict[str, Any] = {"api_up": services.http_up(f"{URL}/")}
    for name in (API, ENGINE):
        pid = procs.read_pid(s, name)
        out[name] = f"{pid} {procs.session_pss_mb(pid):.0f} MiB" if pid else "-"
    return out


def stop(state: Path) -> None:
    procs.stop_all(Settings(state=state), [API, ENGINE], timeout=10)


if __name__ == "__main__":
    register(Settings(state=Path(sys.argv[1])))
