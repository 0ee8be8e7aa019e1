"""AOS deployed on the sandbox: CloudManager and Clouds services as an operator runs them.

Real services (the ``aos-cloud-manager-*`` and ``aos-clouds-*`` console scripts of the venv
running this code) run as subprocesses with their own config dir and a MariaDB database on the
sandbox's server. ``make demo`` deploys them for a user; each functional test and benchmark
deploys its own. Imported from AOS's venv only (the sandbox's own venv has no AOS).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
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
from cloud_manager.power import driver_for

from .client import Sandbox
from .config import SANDBOX_CMD

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


def answers(url: str) -> bool:
    """True when ``url`` answers HTTP 200 (an API's public version document)."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def keystone_auth(sandbox: Sandbox) -> dict[str, str]:
    """``[keystone_authtoken]`` of an AOS API: the sandbox's ``aos`` service user."""
    user = sandbox.info["service_user"]
    return {"www_authenticate_uri": sandbox.info["auth_url"],
            "auth_url": sandbox.info["auth_url"], "auth_type": "password",
            "username": user["username"], "password": user["password"],
            "project_name": user["project_name"], "user_domain_name": "Default",
            "project_domain_name": "Default", "service_token_roles_required": "true"}


def openstack_section(sandbox: Sandbox) -> dict[str, str]:
    """``[openstack]`` of an AOS service: the sandbox's ``aos`` service user."""
    user = sandbox.info["service_user"]
    return {"auth_url": sandbox.info["auth_url"], "username": user["username"],
            "password": user["password"], "project_name": user["project_name"],
            "interface": "public", "region_name": sandbox.info["region"]}


def cloud_endpoints(sandbox: Sandbox) -> dict[str, dict[str, Any]]:
    """``[aws]`` and ``[yandex]`` of the Clouds module: the sandbox's doubles, never the clouds."""
    doubles = sandbox.info["doubles"]
    return {"aws": {"endpoint_url": doubles["aws"]["endpoint_url"], "max_attempts": 2},
            "yandex": {"endpoint": doubles["yandex"]["endpoint"],
                       "root_certificates_file": doubles["yandex"]["root_certificates_file"],
                       "timeout": 10}}


def image_uploads(sandbox: Sandbox) -> dict[str, dict[str, Any]]:
    """``[images]`` of the Clouds module: uploads go to the buckets of the AWS double, which
    serves Yandex Object Storage too."""
    from .doubles.aws import AWS_BUCKET, YANDEX_BUCKET, YANDEX_STORAGE_KEY

    return {"images": {"aws_bucket": AWS_BUCKET, "yandex_bucket": YANDEX_BUCKET,
                       "yandex_access_key_id": YANDEX_STORAGE_KEY[0],
                       "yandex_secret_access_key": YANDEX_STORAGE_KEY[1],
                       "yandex_storage_endpoint": sandbox.info["doubles"]["aws"]["endpoint_url"],
                       "poll_interval": 0.5}}


CATALOG = {"cloud-manager": ("cloud-manager", "Cloud Manager Service", 9362),
           "clouds": ("clouds", "Clouds Service", 9366)}


def register_endpoints(sandbox: Sandbox) -> None:
    """Catalog entries as the install guides create them, so ``openstack aos …`` finds them."""
    identity = sandbox.conn("admin").identity
    for service_type, (name, description, port) in CATALOG.items():
        service = identity.find_service(name)
        if service is None:
            service = identity.create_service(name=name, type=service_type,
                                              description=description)
        existing = {e.interface for e in identity.endpoints(service_id=service.id)}
        for interface in ("internal", "admin", "public"):
            if interface not in existing:
                identity.create_endpoint(service_id=service.id, interface=interface,
                                         url=f"http://127.0.0.1:{port}",
                                         region_id=sandbox.info["region"])


def unregister(admin: Any) -> None:
    """Remove the ``clouds`` service and its endpoints from the Keystone catalog (a catalog
    naming a Clouds API that no longer runs leaves the scheduler filters without bindings)."""
    for service in admin.identity.services(type="clouds"):
        for endpoint in admin.identity.endpoints(service_id=service.id):
            admin.identity.delete_endpoint(endpoint)
        admin.identity.delete_service(service)


def restore_host(sandbox: Sandbox, host: str) -> None:
    """Power the host on, start its nova-compute, unset force_down, enable it (after a kill)."""
    bmc = sandbox.info["bmc"][host]["ipmi"]
    with driver_for("ipmi", name=host, address=bmc["address"], port=bmc["port"],
                    username=bmc["username"], password=bmc["password"], options=None) as driver:
        if driver.power_state() == "off":
            driver.power_on()
    sandbox.start_host(host)
    conn = sandbox.conn("admin")
    service = sandbox.compute_service(host)
    if service.is_forced_down or service.status == "disabled":
        wait_for(f"{host} to report", lambda: reporting(sandbox, host), 60)
        _unforce(conn, service)
        # Enabled only once Nova sees it up: otherwise nova-api skips telling the compute to
        # drop its COMPUTE_STATUS_DISABLED trait, and only a periodic task (60 s) would.
        sandbox.wait_compute_state(host, "up", 60)
        conn.compute.enable_service(service)
    sandbox.wait_compute_state(host, "up", 60)
    node = sandbox.info["hosts"][host].get("node", host)
    wait_for(f"{host} to be schedulable", lambda: _schedulable(conn, node), 60, 1)


def _schedulable(conn: Any, node: str) -> bool:
    """No COMPUTE_STATUS_DISABLED trait left on the resource provider of the host's node."""
    providers = conn.placement.get(f"/resource_providers?name={node}").json()
    uuid = providers["resource_providers"][0]["uuid"]
    traits = conn.placement.get(f"/resource_providers/{uuid}/traits",
                                microversion="1.6").json()["traits"]
    return "COMPUTE_STATUS_DISABLED" not in traits


def reporting(sandbox: Sandbox, host: str) -> bool:
    """The host's nova-compute reported to Nova in the last 10 s."""
    service = sandbox.compute_service(host)
    updated = time.mktime(time.strptime(service.updated_at[:19], "%Y-%m-%dT%H:%M:%S"))
    return time.mktime(time.gmtime()) - updated < 10


def _unforce(conn: Any, service: Any) -> None:
    def attempt() -> bool:
        try:
            conn.compute.update_service_forced_down(service, forced=False)
            return True
        except Exception:  # noqa: BLE001 - Nova answers 400 until the host has cleaned up
            return False

    wait_for("force_down to be unset", attempt, 60, 1)


def server_url(sandbox: Sandbox) -> str:
    """SQLAlchemy URL of the sandbox's MariaDB server (no database)."""
    mysql = sandbox.info["mysql"]
    return f"mysql+pymysql://{mysql['user']}:{mysql['password']}@{mysql['host']}:{mysql['port']}"


def drop_database(sandbox: Sandbox, database: str) -> None:
    engine = sa.create_engine(server_url(sandbox))
    with engine.begin() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {database}"))
    engine.dispose()


class Deployment:
    """One AOS module's services: a config dir, a MariaDB database, console-script processes."""

    module_name = ""
    #: sections every deployment of the module gets; the caller's keys override them one by one
    defaults: dict[str, dict[str, Any]] = {}

    def __init__(self, sandbox: Sandbox, root: Path, database: str,
                 sections: dict[str, dict[str, Any]]) -> None:
        self.sandbox = sandbox
        self.root = root
        self.etc = root / "etc"
        self.etc.mkdir(parents=True, exist_ok=True)
        self.database = database
        self.server_url = server_url(sandbox)
        self.processes: dict[str, subprocess.Popen] = {}
        self.module = modules.get(self.module_name)
        self._write_config(sections)
        self._create_database()

    # --- set-up ----------------------------------------------------------------------------

    def _base_config(self) -> dict[str, dict[str, Any]]:
        return {
            "DEFAULT": {"state_path": self.root / "state", "log_root": self.root / "log",
                        "debug": "false"},
            "database": {"url": f"{self.server_url}/{self.database}?charset=utf8mb4"},
        }

    def _write_config(self, sections: dict[str, dict[str, Any]]) -> None:
        merged = self._base_config()
        for name, values in [*self.defaults.items(), *sections.items()]:
            merged.setdefault(name, {}).update(values)
        lines = []
        for name, values in merged.items():
            lines.append(f"[{name}]")
            lines += [f"{key} = {value}" for key, value in values.items()]
        (self.etc / f"{self.module_name}.conf").write_text("\n".join(lines) + "\n")
        (self.root / "log" / self.module.log_dir_name).mkdir(parents=True, exist_ok=True)

    def _create_database(self) -> None:
        engine = sa.create_engine(self.server_url)
        with engine.begin() as conn:
            conn.execute(sa.text(f"CREATE DATABASE IF NOT EXISTS {self.database}"))
        engine.dispose()
        conf = self.conf()
        crypto.create_key_file(aos_conf.secret_key_file(conf))
        Migrator(self.module, db.create_engine(db.database_url(conf, self.module))).migrate()

    def env(self, etc: Path | None = None) -> dict[str, str]:
        return {**os.environ, "AOS_CONFIG_DIR": str(etc or self.etc)}

    def conf(self):
        previous = os.environ.get("AOS_CONFIG_DIR")
        os.environ["AOS_CONFIG_DIR"] = str(self.etc)
        try:
            return aos_conf.load(self.module)
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
        proc = subprocess.Popen([str(BIN / f"{self.module.service_prefix}-{service}"),
                                 "--log-file", str(self.root / f"{name}.log")], env=self.env(etc),
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.processes[name] = proc
        return proc

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.processes.pop(name)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        proc.wait(timeout=30)

    def output(self, name: str) -> str:
        return "".join(path.read_text(errors="replace") for suffix in (".out", ".log")
                       if (path := self.root / f"{name}{suffix}").exists())

    def stop_all(self) -> None:
        for name in list(self.processes):
            self.kill(name, signal.SIGTERM if name.startswith("api") else signal.SIGKILL)

    def running(self) -> dict[str, bool]:
        """Each started service: still running?"""
        return {name: proc.poll() is None for name, proc in self.processes.items()}



class Clouds(Deployment):
    """The Clouds module: ``aos-clouds-api`` on 9366 and ``aos-clouds-worker``."""

    module_name = "clouds"
    port = 9366

    def __init__(self, sandbox: Sandbox, root: Path, database: str | None = None,
                 **sections: dict[str, Any]) -> None:
        super().__init__(sandbox, root, database or f"clouds_{uuid.uuid4().hex[:12]}", sections)

    def _base_config(self) -> dict[str, dict[str, Any]]:
        return {**super()._base_config(), "openstack": openstack_section(self.sandbox),
                **cloud_endpoints(self.sandbox), **image_uploads(self.sandbox)}

    def healthy(self) -> bool:
        """The API serves its version document and the worker's consumer is ready."""
        return (all(self.running().values()) and answers(f"http://127.0.0.1:{self.port}/")
                and " ready." in self.output("worker"))


class CloudManager(Deployment):
    """CloudManager's services against the sandbox's Nova, and its database seen directly."""

    module_name = "cloud_manager"
    defaults = DEFAULTS

    def __init__(self, sandbox: Sandbox, root: Path, database: str | None = None,
                 **sections: dict[str, Any]) -> None:
        super().__init__(sandbox, root, database or f"cm_{uuid.uuid4().hex[:12]}", sections)
        self.runtime = cm_runtime.build(self.conf())

    def _base_config(self) -> dict[str, dict[str, Any]]:
        user = self.sandbox.info["service_user"]
        return {
            **super()._base_config(),
            "openstack": {"auth_url": self.sandbox.info["auth_url"], "username": user["username"],
                          "password": user["password"], "project_name": user["project_name"],
                          "interface": "public"},
            "extra_availability_check": {"storage_path": self.root / "shared"},
            "nova_database": {"url": f"{self.server_url}/nova?charset=utf8mb4"},
            # Node agents' commands (used only with [agent] enabled).
            "DEFAULT": {"transport_url": self.sandbox.info["transport_url"]},
        }

    def start_agent(self, host: str) -> subprocess.Popen:
        """A node agent for ``host`` (reads instance states from Nova, as in the sandbox).

        It serves the controller's commands over the sandbox's RabbitMQ; its nova-compute is
        the sandbox's process of that host, so restarting or stopping it goes through
        ``tools/sandbox`` (kill-host, then start-host, which returns once it reports again).
        """
        etc = self.root / f"etc-agent-{host}"
        etc.mkdir(exist_ok=True)
        sandbox = f"{sys.executable} {SANDBOX_CMD}"
        text = (self.etc / "cloud_manager.conf").read_text()
        (etc / "cloud_manager.conf").write_text(
            text + f"\n[agent]\nenabled = true\nhost = {host}\nheartbeat_interval = 1\n"
            "instance_source = nova\n"
            f"restart_nova_compute_command = sh -c '{sandbox} kill-host {host}; "
            f"exec {sandbox} start-host {host}'\n"
            f"stop_nova_compute_command = {sandbox} kill-host {host}\n")
        return self.start("agent", f"agent-{host}", etc)

    # --- state -----------------------------------------------------------------------------

    def node(self, host: str):
        with self.runtime.transaction() as session:
            return db_api.node(session, host)

    def nodes(self) -> list:
        with self.runtime.transaction() as session:
            return db_api.nodes(session)

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
        drop_database(self.sandbox, self.database)
