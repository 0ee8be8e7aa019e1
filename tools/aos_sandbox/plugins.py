"""Optional add-ons started with the sandbox: cloud doubles, BMC emulators and Watcher.

They are written separately (`aos_sandbox.doubles`, `aos_sandbox.bmc`). When one is missing,
cannot be imported or lacks the expected function, the sandbox says so and goes on without
it; when one fails, the error is printed and kept in sandbox.json, and OpenStack stays up.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from typing import Any

from .config import SANDBOX_CMD, Settings

SKIP_ENV = "AOS_SANDBOX_NO_PLUGINS"


def _call(name: str, func: str, *args: Any) -> Any:
    """Call aos_sandbox.<name>.<func>(*args); None (with a log line) if unavailable or failing."""
    if os.environ.get(SKIP_ENV):
        return None
    try:
        fn: Callable[..., Any] = getattr(importlib.import_module(f"aos_sandbox.{name}"), func)
    except (ImportError, AttributeError) as err:
        print(f"[sandbox] {name}: skipped ({err})", flush=True)
        return None
    try:
        return fn(*args)
    except Exception as err:  # noqa: BLE001 - an add-on must not take OpenStack down with it
        print(f"[sandbox] {name}.{func} failed: {err!r}", flush=True)
        return {"error": repr(err)}


def start(s: Settings, hosts: list[str], spare_hosts: list[str] = ()) -> dict[str, Any]:
    """Start doubles and BMCs (spare hosts' BMCs start out off); return the sandbox.json
    entries for them."""
    out: dict[str, Any] = {}
    install = _call("doubles", "install", s.state)
    if not (isinstance(install, dict) and "error" in install):
        doubles = _call("doubles", "start", s.state)
        if doubles is not None:
            out["doubles"] = doubles
    for host in spare_hosts:
        _call("bmc", "power_off_at_start", s.state, host)
    bmc = _call("bmc", "start", s.state, [*hosts, *spare_hosts], SANDBOX_CMD, s.python)
    if bmc is not None:
        out["bmc"] = bmc
    watcher = _call("watcher", "start", s.state)
    if watcher is not None:
        out["watcher"] = watcher
    return out


def stop(s: Settings) -> None:
    _call("watcher", "stop", s.state)
    _call("bmc", "stop", s.state)
    _call("doubles", "stop", s.state)


def status(s: Settings) -> dict[str, Any]:
    found = {name: _call(name, "status", s.state) for name in ("doubles", "watcher")}
    return {name: result for name, result in found.items() if result is not None}
