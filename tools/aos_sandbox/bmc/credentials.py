"""BMC credentials: one random password per BMC start, readable only by the owner.

CloudManager gets them from `start()`'s return value or from credentials.json; a
fresh password per start means stale copies fail loudly instead of silently working.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

USERNAME = "admin"


def path(state_dir: Path) -> Path:
    return Path(state_dir) / "bmc" / "credentials.json"


def create(state_dir: Path) -> dict[str, str]:
    """Generate and store (mode 0600, written atomically) a new admin password."""
    creds = {"username": USERNAME, "password": secrets.token_urlsafe(12)}
    target = path(state_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(creds, f)
    os.chmod(tmp, 0o600)
    os.replace(tmp, target)
    return creds


def load(state_dir: Path) -> dict[str, str]:
    return json.loads(path(state_dir).read_text())
