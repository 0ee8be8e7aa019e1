"""The instance-state file a node agent writes to shared storage, and how it is read.

The file is both the agent's heartbeat (``written_at``) and the evidence for the extra
availability check (which instances run), so that a controller that lost the management network
to a node can still learn whether the node lives through the storage they share.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

RUNNING = "running"


@dataclass(frozen=True)
class AgentReport:
    host: str
    written_at: float
    instances: dict[str, str]

    @property
    def running_rate(self) -> float:
        """Percentage of the node's instances that run (100 when it has none)."""
        if not self.instances:
            return 100.0
        running = sum(1 for state in self.instances.values() if state == RUNNING)
        return 100.0 * running / len(self.instances)


def report_path(storage_path: str | Path, host: str) -> Path:
    return Path(storage_path) / f"{host}.json"


def write_report(storage_path: str | Path, report: AgentReport) -> Path:
    """Write atomically (temp file + rename) so a reader never sees half a file."""
    path = report_path(storage_path, report.host)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"host": report.host, "written_at": report.written_at,
                               "instances": report.instances}))
    os.replace(tmp, path)
    return path


def read_report(storage_path: str | Path, host: str) -> AgentReport | None:
    """The node's last report, or None when there is none or it cannot be parsed."""
    try:
        data = json.loads(report_path(storage_path, host).read_text())
        return AgentReport(host=data["host"], written_at=float(data["written_at"]),
                           instances=dict(data["instances"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
