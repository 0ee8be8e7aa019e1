"""Leadership among controllers with tooz: only the holder of a named lock acts.

A lock rather than tooz's group election, because every tooz backend offers locks and a lock
held through a connection (MySQL, etcd lease, file descriptor) is released when its holder dies.
"""

from __future__ import annotations

import logging
import os
import socket
from pathlib import Path

from oslo_config import cfg
from tooz import coordination

from aos import conf as aos_conf

LOG = logging.getLogger(__name__)


def backend_url(conf: cfg.ConfigOpts) -> str:
    if conf.coordination.backend_url:
        return conf.coordination.backend_url
    path = aos_conf.state_path(conf) / "coordination"
    Path(path).mkdir(parents=True, exist_ok=True)
    return f"file://{path}"


class Leadership:
    """Holds ``name`` while this process is the leader; ``is_leader()`` is cheap to call often."""

    def __init__(self, conf: cfg.ConfigOpts, name: str, member: str | None = None) -> None:
        self.name = name
        self.member = member or f"{socket.gethostname()}-{os.getpid()}"
        self._coordinator = coordination.get_coordinator(backend_url(conf),
                                                         self.member.encode())
        self._coordinator.start(start_heart=True)
        self._lock = self._coordinator.get_lock(name.encode())
        self._leader = False

    def is_leader(self) -> bool:
        if not self._leader:
            self._leader = bool(self._lock.acquire(blocking=False))
            if self._leader:
                LOG.info("%s is now the leader for %s", self.member, self.name)
        return self._leader

    def stop(self) -> None:
        if self._leader:
            self._lock.release()
            self._leader = False
        self._coordinator.stop()
