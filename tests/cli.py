"""Run the real ``openstack`` command in a subprocess, as an operator would."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass

from tests.conftest import venv_bin


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self):
        return json.loads(self.out)


def openstack(*args: str, env: dict[str, str] | None = None) -> Result:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    environment.update(env or {})
    proc = subprocess.run([venv_bin("openstack"), *args], capture_output=True, text=True,
                          env=environment, timeout=120, stdin=subprocess.DEVNULL)
    return Result(proc.returncode, proc.stdout, proc.stderr)


def migrations(module: str, env: dict[str, str] | None = None) -> list[dict]:
    result = openstack("aos", "db", "list", "-n", module, "-f", "json", env=env)
    assert result.code == 0, result.err
    return result.json()


def current(module: str, env: dict[str, str] | None = None) -> int:
    return max((m["Migration"] for m in migrations(module, env) if m["Current"]), default=0)
