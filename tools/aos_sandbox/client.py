"""A running sandbox as its users see it: sandbox.json, openstacksdk connections, the CLI.

Used from AOS's venv by the demo, the functional tests and the benchmarks; the sandbox itself
never imports it (its venv runs OpenStack, not AOS).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config import SANDBOX_CMD, load_settings
from .contract import HOLD_LIVE_MIGRATIONS


def state_dir() -> Path:
    """$AOS_SANDBOX_DIR, else <repo>/.sandbox."""
    return load_settings().state


def sandbox_cmd(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    """``tools/sandbox ARGS``; with ``check`` its output goes to the terminal and failure raises."""
    return subprocess.run(
        [sys.executable, str(SANDBOX_CMD), *args], check=check, text=True, capture_output=not check
    )


def connect(auth_url: str, creds: dict[str, str], region: str) -> Any:
    """An openstacksdk Connection for one set of keystone credentials."""
    import openstack

    return openstack.connect(
        auth_url=auth_url,
        region_name=region,
        identity_interface="public",
        username=creds["username"],
        password=creds["password"],
        project_name=creds["project_name"],
        user_domain_name=creds.get("user_domain_name", "Default"),
        project_domain_name=creds.get("project_domain_name", "Default"),
    )


@dataclass
class Sandbox:
    """A running sandbox, as described by its sandbox.json."""

    info: dict[str, Any]
    _conns: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls) -> Sandbox:
        return cls(json.loads((state_dir() / "sandbox.json").read_text()))

    def conn(self, project: str = "admin") -> Any:
        """openstacksdk Connection as the `admin` or `demo` user (cached)."""
        if project not in self._conns:
            self._conns[project] = connect(
                self.info["auth_url"], self.info[project], self.info["region"]
            )
        return self._conns[project]

    def kill_host(self, name: str) -> None:
        """SIGKILL the host's nova-compute (a power loss)."""
        sandbox_cmd("kill-host", name)

    def start_host(self, name: str) -> None:
        """Start the host's nova-compute again (same node, same UUID)."""
        sandbox_cmd("start-host", name)

    def stop_service(self, name: str) -> None:
        """Stop a Cinder daemon (cinder-volume: every backend's service goes down)."""
        sandbox_cmd("stop-service", name)

    def start_service(self, name: str) -> None:
        """Start it again (cinder-volume: returns once every backend heartbeats)."""
        sandbox_cmd("start-service", name)

    def bmc_report(self, name: str, report: str | None) -> None:
        """Make the host's BMCs answer status reads with an awkward state (powering-off,
        powering-on, unknown, none) until called with None; power actions still act."""
        from . import bmc

        bmc.set_report(state_dir(), name, report)

    def hold_live_migrations(self, name: str, held: bool) -> None:
        """Keep live migrations out of host ``name`` running (memory still copying) until
        called with False; they complete normally then."""
        gate = Path(self.info["hosts"][name]["state_path"]) / HOLD_LIVE_MIGRATIONS
        if held:
            gate.touch()
        else:
            gate.unlink(missing_ok=True)

    def compute_service(self, name: str) -> Any:
        services = list(self.conn().compute.services(binary="nova-compute", host=name))
        return services[0] if services else None

    def wait_active(self, server: Any, timeout: float = 120) -> Any:
        """Wait for ACTIVE; on ERROR fail with Nova's fault and the sandbox log lines that
        explain it (a bare "transitioned to ERROR" says nothing in a CI log)."""
        conn = self.conn()
        try:
            return conn.compute.wait_for_server(server, interval=0.5, wait=timeout)
        except Exception as exc:
            current = conn.compute.get_server(server)
            raise AssertionError(
                f"server {current.id} is {current.status} on {current.compute_host}: "
                f"fault={current.fault}\n{self.log_errors()}"
            ) from exc

    def log_errors(self, lines: int = 40) -> str:
        """The last ERROR lines of the Nova and Neutron logs."""
        found = []
        for log in sorted((state_dir() / "log").glob("*.log")):
            if log.name.startswith(("nova", "compute", "neutron", "placement")):
                errors = [line for line in log.read_text(errors="replace").splitlines()
                          if " ERROR " in line]
                found += [f"{log.name}: {line}" for line in errors[-lines:]]
        return "\n".join(found[-lines:])

    def wait_compute_state(self, name: str, state: str, timeout: float = 60) -> Any:
        """Wait until nova reports the host's nova-compute as `up` or `down`."""
        deadline = time.monotonic() + timeout
        while True:
            svc = self.compute_service(name)
            if svc is not None and svc.state == state:
                return svc
            if time.monotonic() > deadline:
                current = svc.state if svc is not None else "missing"
                raise TimeoutError(
                    f"nova-compute on {name} is {current}, not {state}, after {timeout}s"
                )
            time.sleep(1)


def force_delete_servers(conn: Any, servers: list, wait: float = 60) -> None:
    """Force-delete ``servers`` and wait until they are gone; ones already gone are skipped
    (forceDelete is a server action: openstacksdk's ignore_missing does not cover its 404)."""
    import contextlib

    from openstack.exceptions import NotFoundException

    for server in servers:
        with contextlib.suppress(NotFoundException):
            conn.compute.delete_server(server, force=True, ignore_missing=True)
    for server in servers:
        with contextlib.suppress(Exception):  # a teardown goes on with the rest
            conn.compute.wait_for_delete(server, wait=wait)
