"""Power state of the fake hosts, shared by the IPMI and Redfish front ends.

A BMC answers from its own notion of chassis power, not from whether the host's
nova-compute runs: a crashed nova-compute leaves the BMC saying "on", exactly as a
real BMC keeps reporting power while the OS has hung. Power actions change that
state at once (so the protocol reply is immediate and a following status read is
consistent) and queue `<sandbox_cmd> kill-host|start-host HOST` on a per-host worker
thread, so commands for one host never overlap or reorder.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import subprocess
import threading
import time
from pathlib import Path

LOG = logging.getLogger("aos_sandbox.bmc.power")

ON = "on"
OFF = "off"
#: Awkward answers a test can make a BMC give instead of its real state (see `reported`): a
#: transition that never ends, or a reading the BMC cannot make. Real BMCs give them.
REPORTS = ("powering-on", "powering-off", "unknown", "none")


def report_path(state_dir: Path, host: str) -> Path:
    return Path(state_dir) / "bmc" / f"{host}.report"
# A hung sandbox command must not wedge the host's queue forever.
COMMAND_TIMEOUT = float(os.environ.get("AOS_SANDBOX_BMC_COMMAND_TIMEOUT", 180))


class PowerController:
    """Stored power state per host plus a serialized queue of sandbox commands."""

    def __init__(self, state_dir: Path, hosts: list[str], sandbox_cmd: Path) -> None:
        self._dir = Path(state_dir) / "bmc"
        self._dir.mkdir(parents=True, exist_ok=True)
        self._cmd = Path(sandbox_cmd)
        self._lock = threading.Lock()
        self._state = {host: self._load(host) for host in hosts}
        self._queues: dict[str, queue.Queue] = {}
        self._workers: list[threading.Thread] = []
        for host in hosts:
            q: queue.Queue = queue.Queue()
            worker = threading.Thread(
                target=self._work, args=(host, q), name=f"power-{host}", daemon=True
            )
            self._queues[host] = q
            self._workers.append(worker)
            worker.start()

    @property
    def hosts(self) -> list[str]:
        return list(self._state)

    def state(self, host: str) -> str:
        """The power state ("on"/"off") last set through a BMC; survives BMC restarts."""
        return self._state[host]

    def reported(self, host: str) -> str:
        """What status reads answer: the real state, or the awkward one a test set
        (`aos_sandbox.bmc.set_report`); read at every status so it applies at once."""
        try:
            report = report_path(self._dir.parent, host).read_text().strip()
        except OSError:
            return self.state(host)
        return report if report in REPORTS else self.state(host)

    def power_off(self, host: str, protocol: str, action: str = "off") -> None:
        """Cut power: the host's nova-compute is SIGKILLed, like a power loss.

        Even when already off the kill is re-issued: fencing must be certain, and
        someone may have started the host behind the BMC's back.
        """
        self._set(host, OFF, protocol, action)
        self._enqueue(host, protocol, action, ["kill-host"])

    def power_on(self, host: str, protocol: str, action: str = "on") -> None:
        """Power on; a no-op when already on, as on real hardware (use cycle to reboot)."""
        if self.state(host) == ON:
            LOG.info(
                "host=%s protocol=%s action=%s result=noop (already on)", host, protocol, action
            )
            return
        self._set(host, ON, protocol, action)
        self._enqueue(host, protocol, action, ["start-host"])

    def power_cycle(self, host: str, protocol: str, action: str = "cycle") -> None:
        """Reset/cycle: kill then start, ending "on" whatever the state was."""
        self._set(host, ON, protocol, action)
        self._enqueue(host, protocol, action, ["kill-host"], ["start-host"])

    def close(self, timeout: float = 30.0) -> None:
        """Let queued commands finish (bounded), so a BMC stop doesn't lose a fence."""
        for q in self._queues.values():
            q.put(None)
        deadline = time.monotonic() + timeout
        for worker in self._workers:
            worker.join(max(0.0, deadline - time.monotonic()))

    # -- internals --------------------------------------------------------------

    def _path(self, host: str) -> Path:
        return self._dir / f"{host}.json"

    def _load(self, host: str) -> str:
        try:
            state = json.loads(self._path(host).read_text())["power"]
        except (OSError, ValueError, KeyError):
            return ON
        return state if state in (ON, OFF) else ON

    def _set(self, host: str, state: str, protocol: str, action: str) -> None:
        if host not in self._state:
            raise KeyError(host)
        with self._lock:
            previous = self._state[host]
            self._state[host] = state
            tmp = self._path(host).with_suffix(".tmp")
            tmp.write_text(
                json.dumps(
                    {"power": state, "changed_at": time.time(), "by": protocol, "action": action}
                )
            )
            os.replace(tmp, self._path(host))
        LOG.info(
            "host=%s protocol=%s action=%s state=%s->%s", host, protocol, action, previous, state
        )

    def _enqueue(self, host: str, protocol: str, action: str, *commands: list[str]) -> None:
        for args in commands:
            self._queues[host].put((protocol, action, args))

    def _work(self, host: str, q: queue.Queue) -> None:
        while (item := q.get()) is not None:
            protocol, action, args = item
            self._run(host, protocol, action, args)

    def _run(self, host: str, protocol: str, action: str, args: list[str]) -> None:
        argv = [str(self._cmd), *args, host]
        start = time.monotonic()
        try:
            proc = subprocess.run(
                argv,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=COMMAND_TIMEOUT,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            LOG.error(
                "host=%s protocol=%s action=%s command=%s result=error (%s)",
                host,
                protocol,
                action,
                " ".join(args),
                exc,
            )
            return
        took = time.monotonic() - start
        result = "ok" if proc.returncode == 0 else f"failed rc={proc.returncode}"
        # e.g. kill-host of a host whose nova-compute already died: worth a warning only.
        level = logging.INFO if proc.returncode == 0 else logging.WARNING
        LOG.log(
            level,
            "host=%s protocol=%s action=%s command=%s result=%s took=%.2fs%s",
            host,
            protocol,
            action,
            " ".join(args),
            result,
            took,
            _tail(proc.stdout, proc.stderr),
        )


def _tail(stdout: str, stderr: str, limit: int = 500) -> str:
    text = (stdout + stderr).strip()
    return f" output={text[-limit:]!r}" if text else ""
