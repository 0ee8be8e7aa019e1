"""The doubles' own virtualenv (state_dir/venv-doubles), kept apart from the project's venv.

moto, grpcio and the Yandex SDK are heavy and only the server processes need them, so they
live in a venv of their own.  A marker holding the hash of requirements.txt makes a repeated
install() a quick no-op.
"""

from __future__ import annotations

import fcntl
import hashlib
import subprocess
import sys
from pathlib import Path

REQUIREMENTS = Path(__file__).with_name("requirements.txt")
MARKER = ".aos-doubles-requirements.sha256"


def venv_dir(state_dir: Path) -> Path:
    return state_dir / "venv-doubles"


def venv_python(state_dir: Path) -> Path:
    return venv_dir(state_dir) / "bin" / "python"


def _wanted_hash() -> str:
    digest = hashlib.sha256(REQUIREMENTS.read_bytes())
    digest.update(sys.version.encode())
    return digest.hexdigest()


def is_installed(state_dir: Path) -> bool:
    marker = venv_dir(state_dir) / MARKER
    return (
        venv_python(state_dir).exists()
        and marker.exists()
        and marker.read_text().strip() == _wanted_hash()
    )


def install(state_dir: Path) -> None:
    """Create or update the venv; a no-op when the requirements have not changed."""
    state_dir = Path(state_dir)
    if is_installed(state_dir):
        return
    state_dir.mkdir(parents=True, exist_ok=True)
    with open(state_dir / ".venv-doubles.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a parallel install() waits instead of racing pip
        if is_installed(state_dir):
            return
        venv = venv_dir(state_dir)
        if not venv_python(state_dir).exists():
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [
                str(venv_python(state_dir)),
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "-q",
                "-r",
                str(REQUIREMENTS),
            ],
            check=True,
        )
        (venv / MARKER).write_text(_wanted_hash() + "\n")
