"""The files other code reads: sandbox.json (the contract), openrc-*, clouds.yaml."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .config import HOST, REGION, Settings

# In a host's state_path: while this file exists, live migrations out of the host keep
# running (the fake hypervisor's long memory copy; see fakevirt.py).
HOLD_LIVE_MIGRATIONS = "hold-live-migrations"
#: The sandbox host whose hypervisor (node) name is not its service host, as in most libvirt
#: clouds (an FQDN against a short name): Placement names its provider by the node name, Nova
#: its service and servers by the host, and CloudManager must map one to the other.
RENAMED_NODE_HOST = "compute3"
NODE_DOMAIN = "sandbox.test"


def node_name(host: str) -> str:
    """The hypervisor hostname the sandbox's fake driver reports for ``host``."""
    return f"{host}.{NODE_DOMAIN}" if host == RENAMED_NODE_HOST else host


def credentials(s: Settings, who: str) -> dict[str, str]:
    """Keystone credentials of `admin`, `demo` or the `aos` service user."""
    project = {"admin": "admin", "demo": "demo", "aos": "service"}[who]
    return {
        "username": who,
        "password": s.secrets[who],
        "project_name": project,
        "user_domain_name": "Default",
        "project_domain_name": "Default",
    }


def path(s: Settings) -> Path:
    return s.state / "sandbox.json"


def load(s: Settings) -> dict[str, Any]:
    try:
        return json.loads(path(s).read_text())
    except (OSError, ValueError):
        return {}


def env_lines(s: Settings, who: str) -> list[str]:
    c = credentials(s, who)
    values = {
        "OS_AUTH_URL": s.auth_url,
        "OS_AUTH_TYPE": "password",
        "OS_IDENTITY_API_VERSION": "3",
        "OS_REGION_NAME": REGION,
        "OS_USERNAME": c["username"],
        "OS_PASSWORD": c["password"],
        "OS_PROJECT_NAME": c["project_name"],
        "OS_USER_DOMAIN_NAME": c["user_domain_name"],
        "OS_PROJECT_DOMAIN_NAME": c["project_domain_name"],
        "OS_INTERFACE": "public",
    }
    return [f"export {k}={v}" for k, v in values.items()]


def write(s: Settings, **info: Any) -> dict[str, Any]:
    """Merge `info` into sandbox.json and rewrite openrc-* and clouds.yaml."""
    data = load(s)
    data.update(
        {
            "auth_url": s.auth_url,
            "region": REGION,
            "admin": credentials(s, "admin"),
            "demo": credentials(s, "demo"),
            "service_user": credentials(s, "aos"),
            "transport_url": s.transport_url,
            "mysql": {
                "host": HOST,
                "port": s.mysql_port,
                "user": "root",
                "password": s.secrets["mysql"],
                "socket": str(s.mysql_socket),
            },
            "rabbitmq": {
                "host": HOST,
                "port": s.rabbit_port,
                "user": "sandbox",
                "password": s.secrets["rabbit"],
            },
            "state_dir": str(s.state),
            "venv": str(s.venv),
            "nova_conf": str(s.etc / "nova" / "nova.conf"),
        }
    )
    data.update(info)
    s.state.mkdir(parents=True, exist_ok=True)
    tmp = path(s).with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    tmp.replace(path(s))
    for who in ("admin", "demo"):
        (s.state / f"openrc-{who}").write_text("\n".join(env_lines(s, who)) + "\n")
    (s.state / "clouds.yaml").write_text(_clouds_yaml(s))
    return data


def _clouds_yaml(s: Settings) -> str:
    lines = ["clouds:"]
    for who in ("admin", "demo"):
        lines += [f"  sandbox-{who}:", "    auth:", f"      auth_url: {s.auth_url}"]
        lines += [f"      {k}: {json.dumps(v)}" for k, v in credentials(s, who).items()]
        lines += [
            f"    region_name: {REGION}",
            "    identity_api_version: 3",
            "    interface: public",
        ]
    return "\n".join(lines) + "\n"
