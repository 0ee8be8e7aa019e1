"""The sandbox's OpenStack venv holds `clouds-drivers` as an operator installs it: from its wheel.

Nova, Cinder, Glance and Neutron find the drivers through that distribution's entry points, so
what counts is the installed metadata, seen from the OpenStack services' own interpreter.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tools import dist

pytestmark = pytest.mark.functional

PROBE = """
import importlib.metadata as md, json
d = md.distribution("clouds-drivers")
import clouds_drivers
print(json.dumps({"version": d.version, "direct_url": d.read_text("direct_url.json"),
                  "file": clouds_drivers.__file__,
                  "entry_points": sorted([e.group, e.name, e.value] for e in d.entry_points)}))
"""


def test_clouds_drivers_is_installed_from_its_wheel(sandbox, tmp_path):
    python = Path(sandbox.info["venv"]) / "bin" / "python"
    # Away from the checkout, as the sandbox's services run (its cwd would shadow the package).
    done = subprocess.run([python, "-c", PROBE], capture_output=True, text=True, timeout=60,
                          cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    project = dist.load_project()
    assert found["version"] == project["project"]["version"]
    assert json.loads(found["direct_url"])["url"].endswith(".whl")  # not editable, not a path
    assert "site-packages" in found["file"]
    table = dist.metadata(project)["clouds-drivers"]
    expected = sorted([group, name, value] for group, entries
                      in table.get("entry-points", {}).items() for name, value in entries.items())
    assert found["entry_points"] == expected
    marker = Path(sandbox.info["venv"]) / ".aos-clouds-drivers"
    assert marker.read_text() == dist.fingerprint("clouds-drivers", project)
