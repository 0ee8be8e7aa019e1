"""A CloudManager deployment for one functional test, on the sandbox.

Real services (``aos-cloud-manager-beat``/``-worker``/``-agent`` console scripts) run as
subprocesses with their own config dir and a fresh MariaDB database on the sandbox's server.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from aos import conf as aos_conf
from aos import crypto, db, modules
from aos.db.migrations import Migrator
from cloud_manager import runtime as cm_runtime
from cloud_manager.db import api as db_api

BIN = Path(sys.executable).parent

DEFAULTS: dict[str, dict[str, Any]] = {
    "node_tracker": {"loop_time": 1, "mutex": 2, "max_down_hosts": 1, "service_timeout": 12,
                     "heartbeat_timeout": 6},
    "host_tasks": {"prioritized_evacuation_timeout": 20, "poll_interval": 0.5,
                   "task_lease_time": 10},
    "api": {"auth_strategy": "noauth"},
}


def wait_for(what: str, check: Callable[[], Any], timeout: float = 90,
             interval: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


class CloudManager:
    def __init__(self, sandbox: Any, root: Path, database: str | None = None,
                 **sections: dict[str, Any]) -> None:
        self.sandbox = sandbox
        self.root = root
        self.etc = root / "etc"
        self.etc.mkdir(parents=True, exist_ok=True)
        self.database = database or f"cm_{uuid.uuid4().hex[:12]}"
        mysql = sandbox.info["mysql"]
        self.server_url = (f"mysql+pymysql://{mysql['user']}:{mysql['password']}@"
                           f"{mysql['host']}:{mysql['port']}")
        self.processes: dict[str, subprocess.Popen] = {}
        self._write_config(sections)
        self._create_database()
        self.runtime = cm_runtime.build(self.conf())

    # --- set-up ----------------------------------------------------------------------------

    def _write_config(self, sections: dict[str, dict[str, Any]]) -> None:
        user = self.sandbox.info["service_user"]
        merged: dict[str, dict[str, Any]] = {
            "DEFAULT": {"state_path": self.root / "state", "log_root": self.root / "log",
                        "debug": "false"},
            "database": {"url": f"{self.server_url}/{self.database}?charset=utf8mb4"},
            "openstack": {"auth_url": self.sandbox.info["auth_url"], "username": user["username"],
                          "password": user["password"], "project_name": user["project_name"],
                          "interface": "public"},
            "extra_availability_check": {"storage_path": self.root / "shared"},
            "nova_database": {"url": f"{self.server_url}/nova?charset=utf8mb4"},
        }
        for name, values in [*DEFAULTS.items(), *sections.items()]:
            merged.setdefault(name, {}).update(values)
        lines = []
        for name, values in merged.items():
            lines.append(f"[{name}]")
            lines += [f"{key} = {value}" for key, value in values.items()]
        (self.etc / "cloud_manager.conf").write_text("\n".join(lines) + "\n")
        (self.root / "log" / "cloud-manager").mkdir(parents=True, exist_ok=True)

    def _create_database(self) -> None:
        engine = sa.create_engine(self.server_url)
        with engine.begin() as conn:
            conn.execute(sa.text(f"CREATE DATABASE IF NOT EXISTS {self.database}"))
        engine.dispose()
        conf = self.conf()
        crypto.create_key_file(aos_conf.secret_key_file(conf))
        module = modules.get("cloud_manager")
        Migrator(module, db.create_engine(db.database_url(conf, module))).migrate()

    def env(self, etc: Path | None = None) -> dict[str, str]:
        return {**os.environ, "AOS_CONFIG_DIR": str(etc or self.etc)}

    def conf(self):
        previous = os.environ.get("AOS_CONFIG_DIR")
        os.environ["AOS_CONFIG_DIR"] = str(self.etc)
        try:
            return aos_conf.load(modules.get("cloud_manager"))
        finally:
            if previous is None:
                del os.environ["AOS_CONFIG_DIR"]
            else:
                os.environ["AOS_CONFIG_DIR"] = previous

    # --- services --------------------------------------------------------------------------

    def start(self, service: str, name: str | None = None, etc: Path | None = None,
              ) -> subprocess.Popen:
        name = name or service
        log = open(self.root / f"{name}.out", "ab")  # noqa: SIM115 - lives with the process
        proc = subprocess.Popen([str(BIN / f"aos-cloud-manager-{service}"),
                                 "--log-file", str(self.root / f"{name}.log")], env=self.env(etc),
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.processes[name] = proc
        return proc

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.processes.pop(name)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        proc.wait(timeout=30)

    def start_agent(self, host: str) -> subprocess.Popen:
        """A node agent for ``host`` (reads instance states from Nova, as in the sandbox)."""
        etc = self.root / f"etc-agent-{host}"
        etc.mkdir(exist_ok=True)
        text = (self.etc / "cloud_manager.conf").read_text()
        (etc / "cloud_manager.conf").write_text(
            text + f"\n[agent]\nenabled = true\nhost = {host}\nheartbeat_interval = 1\n"
            "instance_source = nova\n")
        return self.start("agent", f"agent-{host}", etc)

    def output(self, name: str) -> str:
        return "".join(path.read_text(errors="replace") for suffix in (".out", ".log")
                       if (path := self.root / f"{name}{suffix}").exists())

    def stop_all(self) -> None:
        for name in list(self.processes):
            self.kill(name, signal.SIGTERM if name.startswith("api") else signal.SIGKILL)

    # --- state -----------------------------------------------------------------------------

    def node(self, host: str):
        with self.runtime.transaction() as session:
            return db_api.node(session, host)

    def node_states(self) -> dict[str, str]:
        with self.runtime.transaction() as session:
            return {n.hostname: n.state for n in db_api.nodes(session)}

    def tasks(self, host: str | None = None) -> list:
        with self.runtime.transaction() as session:
            found = db_api.tasks(session, hostname=host)
            for task in found:
                list(task.items)
            return found

    def events(self, host: str | None = None, kind: str | None = None) -> list:
        with self.runtime.transaction() as session:
            return db_api.events(session, hostname=host, kind=kind, limit=500)

    def wait_node(self, host: str, state: str, timeout: float = 90) -> None:
        wait_for(f"node {host} to be {state} (now {self.node_states().get(host)})",
                 lambda: self.node_states().get(host) == state, timeout)

    def wait_task_final(self, host: str, timeout: float = 120):
        def final():
            tasks = self.tasks(host)
            return tasks[0] if tasks and tasks[0].state in db_api.FINAL_TASK_STATES else None

        return wait_for(f"the task of {host} to finish", final, timeout)

    def add_bmc(self, host: str, protocol: str = "ipmi") -> None:
        bmc = self.sandbox.info["bmc"][host][protocol]
        with self.runtime.transaction() as session:
            if protocol == "ipmi":
                db_api.add_power_device(
                    session, name=f"{host}-bmc", driver="ipmi", address=bmc["address"],
                    port=bmc["port"], username=bmc["username"],
                    secret=self.runtime.secrets.encrypt(bmc["password"]), hostname=host,
                    options=None)
            else:
                db_api.add_power_device(
                    session, name=f"{host}-bmc", driver="redfish", address=bmc["url"],
                    port=None, username=bmc["username"],
                    secret=self.runtime.secrets.encrypt(bmc["password"]), hostname=host,
                    options={"system_id": bmc["system_id"]})

    def drop(self) -> None:
        self.stop_all()
        self.runtime.sessions.kw["bind"].dispose()
        engine = sa.create_engine(self.server_url)
        with engine.begin() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {self.database}"))
        engine.dispose()
