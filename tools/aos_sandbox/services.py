"""The OpenStack daemons of the sandbox: how each is started and how we tell it is up."""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from . import conffiles, procs
from .config import HOST, HTTP_SERVICES, TOOLS_DIR, Settings

WSGI_APPS = {
    "keystone": ("keystone.wsgi.api:application", {"OS_KEYSTONE_CONFIG_DIR": "keystone"}),
    "placement": ("placement.wsgi.api:application", {"OS_PLACEMENT_CONFIG_DIR": "placement"}),
    "glance": ("glance.wsgi.api:application", {"OS_GLANCE_CONFIG_DIR": "glance"}),
    "neutron": (
        "neutron.wsgi.api:application",
        {
            "OS_NEUTRON_CONFIG_DIR": "neutron",
            "OS_NEUTRON_CONFIG_FILES": "neutron.conf;ml2_conf.ini",
        },
    ),
    "nova-api": (
        "nova.wsgi.osapi_compute:application",
        {"OS_NOVA_CONFIG_DIR": "nova", "OS_NOVA_CONFIG_FILES": "api-paste.ini;nova.conf"},
    ),
    # Cinder's WSGI module parses its arguments for its config file (aos_sandbox.wsgi).
    "cinder-api": ("cinder.wsgi.api:application", {"AOS_WSGI_CONFIG_FILE": "cinder/cinder.conf"}),
}
CINDER_DAEMONS = ("cinder-scheduler", "cinder-volume")


@dataclass
class Service:
    name: str
    argv: list
    env: dict[str, str] = field(default_factory=dict)
    url: str = ""
    probe: str = ""  # URL whose answer (any status < 500) means "up"

    @property
    def log(self) -> str:
        return f"log/{self.name}.log"


def _base_env(s: Settings) -> dict[str, str]:
    return {"PYTHONPATH": str(TOOLS_DIR), "PYTHONUNBUFFERED": "1"}


def wsgi_service(s: Settings, name: str) -> Service:
    app, env_dirs = WSGI_APPS[name]
    port, probe_path, _ = HTTP_SERVICES[name]
    env = {**_base_env(s), "AOS_WSGI_APP": app}
    for key, value in env_dirs.items():
        env[key] = str(s.etc / value) if key.endswith(("_DIR", "_FILE")) else value
    argv = [
        s.bin("gunicorn"),
        "--bind",
        f"{HOST}:{port}",
        "--workers",
        # Neutron is the bottleneck of mass evacuations (every rebuild rebinds its ports).
        "2" if name == "neutron" else "1",
        "--threads",
        "8",
        "--timeout",
        "300",
        # Longer than the clients' idle gaps, so pooled connections are rarely closed under them.
        "--keep-alive",
        "75",
        # Nova asks Neutron for the ports of every listed server in one query string, longer
        # than gunicorn's default 4094-byte request line once a listing holds ~40 servers.
        "--limit-request-line",
        "0",
        "--graceful-timeout",
        "3",
        "--no-control-socket",
        "--name",
        f"aos-sandbox-{name}",
        "--pid",
        s.run_dir / f"{name}.gunicorn.pid",
        "aos_sandbox.wsgi:application",
    ]
    return Service(name, argv, env, s.url(name), f"http://{HOST}:{port}{probe_path}")


def nova_service(s: Settings, binary: str) -> Service:
    argv = [s.bin(binary), "--config-file", s.etc / "nova" / "nova.conf"]
    return Service(binary, argv, _base_env(s))


def cinder_service(s: Settings, binary: str) -> Service:
    argv = [s.bin(binary), "--config-file", s.etc / "cinder" / "cinder.conf"]
    return Service(binary, argv, _base_env(s))


def compute_service(s: Settings, host: str) -> Service:
    conf = conffiles.compute(s, host)
    argv = [
        s.python,
        "-m",
        "aos_sandbox.compute",
        "--config-file",
        s.etc / "nova" / "nova.conf",
        "--config-file",
        conf,
    ]
    env = {
        **_base_env(s),
        "AOS_SANDBOX_COMPUTE_VCPUS": str(s.compute_vcpus),
        "AOS_SANDBOX_COMPUTE_RAM_MB": str(s.compute_ram_mb),
        "AOS_SANDBOX_COMPUTE_DISK_GB": str(s.compute_disk_gb),
    }
    return Service(f"compute-{host}", argv, env)


def control_plane(s: Settings) -> list[Service]:
    """Every API and control service, in start order (keystone first)."""
    apis = [wsgi_service(s, name) for name in WSGI_APPS]
    nova = [nova_service(s, "nova-conductor"), nova_service(s, "nova-scheduler")]
    return apis + nova + [cinder_service(s, binary) for binary in CINDER_DAEMONS]


def http_up(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except urllib.error.HTTPError as err:
        return err.code < 500
    except OSError:
        return False


def is_up(s: Settings, svc: Service) -> bool:
    if procs.read_pid(s, svc.name) is None:
        return False
    return http_up(svc.probe) if svc.probe else True


def start(s: Settings, svc: Service) -> int:
    return procs.spawn(s, svc.name, svc.argv, svc.env)


def log_path(s: Settings, svc: Service) -> Path:
    return s.log_dir / f"{svc.name}.log"
