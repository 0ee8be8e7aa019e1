"""Install what the sandbox needs on a fresh machine, and nothing twice.

Debian packages only if their binaries are missing; the venv only if the hash of
requirements.txt differs from the marker left by the last successful install. The venv also
gets a .pth file that makes `aos_sandbox` importable and an entry point for our ML2 driver
(Neutron finds mechanism drivers only through entry points).

The repository's ``clouds_drivers`` (and the ``clouds.providers`` it uses) reach the venv the
same way until the ``clouds-drivers`` wheel does it: a directory of two symlinks on a .pth
line, and a dist-info whose entry points are the root pyproject.toml's ``neutron.*`` groups.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

from . import procs
from .config import REPO_DIR, TOOLS_DIR, Settings
from .procs import SetupError

REQUIREMENTS = Path(__file__).with_name("requirements.txt")
APT_PACKAGES = {
    "mariadb-server": "/usr/sbin/mariadbd",
    "rabbitmq-server": "/usr/lib/rabbitmq/bin/rabbitmq-server",
}
DIST_NAME = "aos_sandbox_hooks"
ENTRY_POINTS = """\
[neutron.ml2.mechanism_drivers]
aos_bindall = aos_sandbox.ml2_bindall:BindAllMechanismDriver
"""
#: What the sandbox's OpenStack imports from this repository, and the entry-point groups of
#: pyproject.toml it must see.
DRIVER_PACKAGES = ("clouds_drivers", "clouds")
DRIVER_DIST = "aos_clouds_drivers_sandbox"
DRIVER_GROUPS = ("neutron.",)
DRIVER_DEPENDENCIES = ("boto3",)


def _say(msg: str) -> None:
    print(f"[sandbox] {msg}", flush=True)


def ensure_apt(s: Settings) -> None:
    missing = [pkg for pkg, binary in APT_PACKAGES.items() if not Path(binary).exists()]
    if importlib.util.find_spec("ensurepip") is None:  # Debian's python3 without python3-venv
        missing.append("python3-venv")
    if not missing:
        return
    _say(f"apt-get install {' '.join(missing)}")
    log = s.log_dir / "install.log"
    env = {"DEBIAN_FRONTEND": "noninteractive"}
    # Keep the system services from starting: the sandbox runs its own private instances.
    policy = Path("/usr/sbin/policy-rc.d")
    own_policy = not policy.exists()
    if own_policy:
        policy.write_text("#!/bin/sh\nexit 101\n")
        policy.chmod(0o755)
    try:
        procs.run(["apt-get", "update", "-qq"], log, env)
        procs.run(
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing], log, env
        )
    finally:
        if own_policy:
            policy.unlink(missing_ok=True)


def _requirements_hash() -> str:
    return hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()


def ensure_venv(s: Settings) -> None:
    marker = s.venv / ".aos-sandbox-requirements"
    if not (marker.exists() and marker.read_text() == _requirements_hash() and s.python.exists()):
        _say(f"installing OpenStack into {s.venv} (a few minutes on a fresh machine)")
        started = time.monotonic()
        log = s.log_dir / "install.log"
        if not s.python.exists():
            procs.run([sys.executable, "-m", "venv", s.venv], log)
        procs.run([s.python, "-m", "pip", "install", "-q", "-r", REQUIREMENTS], log)
        marker.write_text(_requirements_hash())
        _say(f"venv ready in {time.monotonic() - started:.0f}s")
    _install_hooks(s)
    _install_clouds_drivers(s)


def _site_packages(s: Settings) -> Path:
    out = subprocess.run(
        [s.python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    )
    return Path(out.stdout.strip())


def _install_hooks(s: Settings) -> None:
    site = _site_packages(s)
    pth = site / "aos_sandbox.pth"
    if pth.exists() and pth.read_text().strip() == str(TOOLS_DIR):
        return
    pth.write_text(f"{TOOLS_DIR}\n")
    dist = site / f"{DIST_NAME}-0.dist-info"
    if dist.exists():
        shutil.rmtree(dist)
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {DIST_NAME}\nVersion: 0\n")
    (dist / "entry_points.txt").write_text(ENTRY_POINTS)
    (dist / "top_level.txt").write_text("aos_sandbox\n")


def clouds_drivers_root(s: Settings) -> Path:
    """The directory on the venv's path that holds the repository's driver packages."""
    return s.state / "clouds-drivers"


def driver_entry_points(pyproject: Path = REPO_DIR / "pyproject.toml") -> str:
    """entry_points.txt of the drivers: pyproject.toml's groups for the OpenStack services."""
    groups = tomllib.loads(pyproject.read_text())["project"]["entry-points"]
    out = []
    for group, points in groups.items():
        if group.startswith(DRIVER_GROUPS):
            out.append(f"[{group}]")
            out.extend(f"{name} = {target}" for name, target in points.items())
            out.append("")
    return "\n".join(out)


def _install_clouds_drivers(s: Settings) -> None:
    root = clouds_drivers_root(s)
    root.mkdir(parents=True, exist_ok=True)
    for package in DRIVER_PACKAGES:
        link = root / package
        if not link.is_symlink():
            link.symlink_to(REPO_DIR / package)
    site = _site_packages(s)
    (site / f"{DRIVER_DIST}.pth").write_text(f"{root}\n")
    dist = site / f"{DRIVER_DIST}-0.dist-info"
    dist.mkdir(exist_ok=True)
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {DRIVER_DIST}\nVersion: 0\n")
    (dist / "entry_points.txt").write_text(driver_entry_points())
    (dist / "top_level.txt").write_text("\n".join(DRIVER_PACKAGES) + "\n")
    missing = [name for name in DRIVER_DEPENDENCIES
               if subprocess.run([s.python, "-c", f"import {name}"],
                                 capture_output=True).returncode != 0]
    if missing:
        _say(f"installing {' '.join(missing)} for the cloud drivers")
        procs.run([s.python, "-m", "pip", "install", "-q", *missing],
                  s.log_dir / "install.log")


def ensure_all(s: Settings) -> None:
    """Everything `up` needs installed; fast when already done."""
    s.log_dir.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 and any(not Path(b).exists() for b in APT_PACKAGES.values()):
        raise SetupError(
            "mariadb-server/rabbitmq-server missing and not root: install them with apt"
        )
    ensure_apt(s)
    ensure_venv(s)
