"""Public-cloud test doubles for the AOS hybrid-cloud module: AWS (moto) and Yandex.Cloud.

The OpenStack sandbox and the functional tests drive them through four calls; everything
imported here is stdlib only, the servers themselves run from state_dir/venv-doubles.

    install(state_dir)  -> None   create/refresh state_dir/venv-doubles (no-op when current)
    start(state_dir)    -> dict   start both servers on 127.0.0.1, return their endpoints
    stop(state_dir)     -> None   stop them, nothing left behind
    status(state_dir)   -> dict   {"aws": {"pid", "up", "url"}, "yandex": {...}}

Ports: 15000 (AWS) and 15001 (Yandex), overridable with AOS_DOUBLES_AWS_PORT and
AOS_DOUBLES_YANDEX_PORT.  Logs go to state_dir/log/{aws,yandex}.log, pids to state_dir/run/.
"""

from __future__ import annotations

from .processes import start, status, stop
from .venv import install

__all__ = ["install", "start", "status", "stop"]
