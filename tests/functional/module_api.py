"""Any AOS module's API service (``aos-<module>-api``) on the sandbox, behind Keystone.

Generic over modules: its own config dir, a fresh MariaDB database migrated to head, the
real console script under keystonemiddleware. Used by tests that exercise every module's API
the same way (the fuzzing run).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import requests
import sqlalchemy as sa

from aos import conf as aos_conf
from aos import crypto, db, modules
from aos.db.migrations import Migrator
from tools.aos_sandbox.aos_services import (
    cloud_endpoints,
    keystone_auth,
    openstack_section,
    wait_for,
)

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ModuleAPI:
    def __init__(self, sandbox: Any, root: Path, module_name: str) -> None:
        self.module = modules.get(module_name)
        self.root, self.etc = root, root / "etc"
        self.etc.mkdir(parents=True, exist_ok=True)
        mysql = sandbox.info["mysql"]
        self.server_url = (f"mysql+pymysql://{mysql['user']}:{mysql['password']}@"
                           f"{mysql['host']}:{mysql['port']}")
        self.database = f"{module_name}_{uuid.uuid4().hex[:10]}"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        sections = {
            "DEFAULT": {"state_path": root / "state", "log_root": root / "log"},
            "database": {"url": f"{self.server_url}/{self.database}"},
            "api": {"auth_strategy": "keystone", "host": "127.0.0.1", "port": self.port,
                    "workers": 1},
            "keystone_authtoken": keystone_auth(sandbox),
            "openstack": openstack_section(sandbox),
            # Fuzzed cloud accounts reach the sandbox's doubles, never a real cloud.
            **(cloud_endpoints(sandbox) if module_name == "clouds" else {}),
        }
        (self.etc / f"{module_name}.conf").write_text("".join(
            f"[{name}]\n" + "".join(f"{k} = {v}\n" for k, v in values.items())
            for name, values in sections.items()))
        self.proc: subprocess.Popen | None = None

    def env(self) -> dict[str, str]:
        return {**os.environ, "AOS_CONFIG_DIR": str(self.etc)}

    def start(self) -> None:
        engine = sa.create_engine(self.server_url)
        with engine.begin() as conn:
            conn.execute(sa.text(f"CREATE DATABASE {self.database}"))
        engine.dispose()
        previous = os.environ.get("AOS_CONFIG_DIR")
        os.environ["AOS_CONFIG_DIR"] = str(self.etc)
        try:
            conf = aos_conf.load(self.module)
        finally:
            os.environ.pop("AOS_CONFIG_DIR")
            if previous is not None:
                os.environ["AOS_CONFIG_DIR"] = previous
        crypto.create_key_file(aos_conf.secret_key_file(conf))
        migrated = db.create_engine(db.database_url(conf, self.module))
        Migrator(self.module, migrated).migrate()
        migrated.dispose()
        self.log = open(self.root / "api.out", "ab")  # noqa: SIM115 - lives with the process
        self.proc = subprocess.Popen(
            [str(BIN / f"{self.module.service_prefix}-api"), "--log-file",
             str(self.root / "api.log")],
            env=self.env(), stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

        def ready() -> bool:
            try:
                return requests.get(self.url, timeout=2).status_code == 200
            except requests.ConnectionError:
                return False

        wait_for(f"the {self.module.name} API to listen", ready, 60)

    def output(self) -> str:
        return "".join(path.read_text(errors="replace") for name in ("api.out", "api.log")
                       if (path := self.root / name).exists())

    def stop(self) -> None:
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=30)
            self.log.close()
        engine = sa.create_engine(self.server_url)
        with engine.begin() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {self.database}"))
        engine.dispose()
