"""Install what the sandbox needs on a fresh machine, and nothing twice.

Debian packages only if their binaries are missing; the venv only if the hash of
requirements.txt differs from the marker left by the last successful install. The venv also
gets a .pth file that makes `aos_sandbox` importable and an entry point for our ML2 driver
(Neutron finds mechanism drivers only through entry points), and the `clouds-drivers` wheel of
this checkout, installed by pip as an operator installs it on a node running Nova, Cinder,
Glance or Neutron (rebuilt and reinstalled only when its sources or metadata change).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from . import procs
from .config import REPO_DIR, TOOLS_DIR, Settings
from .procs import SetupError

REQUIREMENTS = Path(__file__).with_name("requirements.txt")
APT_PACKAGES = {
    "mariadb-server": "/usr/sbin/mariadbd",
    "rabbitmq-server": "/usr/lib/rabbitmq/bin/rabbitmq-server",
}
DIST_SCRIPT = TOOLS_DIR / "dist.py"
DRIVERS = "clouds-drivers"
WHEEL_DIR = REPO_DIR / "dist"
DIST_NAME = "aos_sandbox_hooks"
ENTRY_POINTS = """\
[neutron.ml2.mechanism_drivers]
aos_bindall = aos_sandbox.ml2_bindall:BindAllMechanismDriver
"""


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


def clouds_drivers_dir(s: Settings) -> Path:
    """Where the installed clouds-drivers wheel's package lives (Neutron's extensions path)."""
    return _site_packages(s) / "clouds_drivers"


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


def _dist(s: Settings, *args: str | os.PathLike) -> str:
    """tools/dist.py run by the sandbox venv's Python (it has pip; the system one may not)."""
    done = subprocess.run([s.python, DIST_SCRIPT, *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise SetupError(done.stderr.strip() or f"tools/dist.py {' '.join(map(str, args))} failed")
    return done.stdout.strip()


def ensure_drivers(s: Settings) -> None:
    """`pip install <clouds-drivers wheel>` into the OpenStack venv when the wheel changed."""
    marker = s.venv / ".aos-clouds-drivers"
    wanted = _dist(s, "--fingerprint", DRIVERS)
    if marker.exists() and marker.read_text() == wanted:
        return
    started = time.monotonic()
    wheel = _dist(s, "--out", WHEEL_DIR, DRIVERS)
    log = s.log_dir / "install.log"
    if marker.exists():  # same version, new build: pip would keep the installed one
        procs.run([s.python, "-m", "pip", "uninstall", "-q", "-y", DRIVERS], log)
    # The drivers' SDKs must not upgrade the services' build tooling: yandexcloud's
    # grpcio-tools would take setuptools from 65 to 84 under the services. Pinning every
    # installed package instead sent pip backtracking through hundreds of releases.
    setuptools = subprocess.run(
        [s.python, "-c", "import setuptools; print(setuptools.__version__)"],
        capture_output=True, text=True, check=True, timeout=60).stdout.strip()
    constraints = s.venv / "drivers-constraints.txt"
    constraints.write_text(f"setuptools=={setuptools}\n")
    procs.run([s.python, "-m", "pip", "install", "-q", "-c", constraints, wheel], log)
    marker.write_text(wanted)
    _say(f"{DRIVERS} built and installed from {Path(wheel).name} "
         f"in {time.monotonic() - started:.1f}s")


def ensure_all(s: Settings) -> None:
    """Everything `up` needs installed; fast when already done."""
    s.log_dir.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 and any(not Path(b).exists() for b in APT_PACKAGES.values()):
        raise SetupError(
            "mariadb-server/rabbitmq-server missing and not root: install them with apt"
        )
    ensure_apt(s)
    ensure_venv(s)
    ensure_drivers(s)
