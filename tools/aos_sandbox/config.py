"""Where the sandbox lives and which ports it uses: one place so every module agrees."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

TOOLS_DIR = Path(__file__).resolve().parent.parent
REPO_DIR = TOOLS_DIR.parent
SANDBOX_CMD = TOOLS_DIR / "sandbox"
HOST = "127.0.0.1"
REGION = "RegionOne"

# Service name -> (port, path probed for health, public URL path).
HTTP_SERVICES = {
    "keystone": (5000, "/v3", "/v3"),
    "placement": (8778, "/", ""),
    "glance": (9292, "/versions", ""),
    "neutron": (9696, "/", ""),
    "nova-api": (8774, "/", "/v2.1"),
    "cinder-api": (8776, "/", "/v3"),
}


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


@dataclass
class Settings:
    """Paths, ports and secrets of one sandbox (a state directory)."""

    state: Path
    mysql_port: int = field(default_factory=lambda: _env_int("AOS_SANDBOX_MYSQL_PORT", 13306))
    rabbit_port: int = field(default_factory=lambda: _env_int("AOS_SANDBOX_RABBIT_PORT", 5672))
    epmd_port: int = field(default_factory=lambda: _env_int("AOS_SANDBOX_EPMD_PORT", 14369))
    compute_vcpus: int = field(default_factory=lambda: _env_int("AOS_SANDBOX_COMPUTE_VCPUS", 8))
    compute_ram_mb: int = field(
        default_factory=lambda: _env_int("AOS_SANDBOX_COMPUTE_RAM_MB", 8192)
    )
    compute_disk_gb: int = field(
        default_factory=lambda: _env_int("AOS_SANDBOX_COMPUTE_DISK_GB", 200)
    )

    @property
    def rabbit_dist_port(self) -> int:
        return self.rabbit_port + 20000

    @property
    def venv(self) -> Path:
        return self.state / "venv"

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    def bin(self, name: str) -> Path:
        return self.venv / "bin" / name

    @property
    def log_dir(self) -> Path:
        return self.state / "log"

    @property
    def run_dir(self) -> Path:
        return self.state / "run"

    @property
    def etc(self) -> Path:
        return self.state / "etc"

    @property
    def mysql_socket(self) -> Path:
        return self.run_dir / "mysqld.sock"

    @property
    def auth_url(self) -> str:
        return f"http://{HOST}:5000/v3"

    def url(self, service: str) -> str:
        port, _, path = HTTP_SERVICES[service]
        return f"http://{HOST}:{port}{path}"

    @property
    def secrets(self) -> dict[str, str]:
        """Passwords, generated once per state dir and kept in secrets.json."""
        path = self.state / "secrets.json"
        if path.exists():
            return json.loads(path.read_text())
        names = ["mysql", "rabbit", "admin", "demo", "aos", "service"]
        data = {name: secrets.token_hex(8) for name in names}
        self.state.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=1))
        path.chmod(0o600)
        return data

    def db_url(self, database: str) -> str:
        pw = self.secrets["mysql"]
        return f"mysql+pymysql://root:{pw}@{HOST}:{self.mysql_port}/{database}?charset=utf8"

    @property
    def transport_url(self) -> str:
        return f"rabbit://sandbox:{self.secrets['rabbit']}@{HOST}:{self.rabbit_port}/"


def load_settings() -> Settings:
    """Settings for $AOS_SANDBOX_DIR (default <repo>/.sandbox)."""
    state = Path(os.environ.get("AOS_SANDBOX_DIR") or REPO_DIR / ".sandbox").resolve()
    return Settings(state=state)
