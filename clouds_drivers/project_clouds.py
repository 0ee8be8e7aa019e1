"""Which cloud a project is bound to, and its short-lived credentials, cached briefly.

``ProjectBindings`` serves the schedulers' filters, which need only the binding;
``ProjectClouds`` the drivers, which need the credentials too.

Nova asks for the same project many times a minute (every power-state sync, every
scheduling request); the Clouds API issues credentials valid for an hour, so an answer is
kept ``ttl`` seconds. When the Clouds API cannot answer, the last answer is used for up to
``stale_ttl`` seconds more; after that the error goes to the caller, who decides what is
safe (the scheduler filter passes no host, the compute driver fails the operation).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from clouds_drivers.clouds_api import CloudsClient, CloudsUnavailable, ProjectCloud

LOG = logging.getLogger(__name__)
DEFAULT_TTL = 300.0
DEFAULT_STALE_TTL = 1800.0
#: Seconds a scheduler filter trusts a binding: a project bound with ``clouds add`` is routed
#: to its cloud within this time (the first request after binding asks afresh).
BINDING_TTL = 30.0


class ProjectClouds:
    def __init__(self, client: CloudsClient, ttl: float = DEFAULT_TTL,
                 stale_ttl: float = DEFAULT_STALE_TTL,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self.ttl = ttl
        self.stale_ttl = stale_ttl
        self.clock = clock
        self._answers: dict[str, tuple[float, ProjectCloud | None]] = {}
        self._lock = threading.Lock()

    def get(self, project_id: str) -> ProjectCloud | None:
        """The project's cloud with credentials; None when it is not cloud-bound."""
        now = self.clock()
        with self._lock:
            cached = self._answers.get(project_id)
        if cached is not None and now - cached[0] < self.ttl:
            return cached[1]
        try:
            answer = self.client.project_cloud(project_id)
        except CloudsUnavailable:
            if cached is not None and now - cached[0] < self.ttl + self.stale_ttl:
                return cached[1]
            raise
        with self._lock:
            self._answers[project_id] = (now, answer)
        return answer

    def provider_of(self, project_id: str) -> str | None:
        found = self.get(project_id)
        return found.provider if found is not None else None

    def forget(self, project_id: str) -> None:
        """Drop the answer (credentials the cloud refused are asked for again)."""
        with self._lock:
            self._answers.pop(project_id, None)


class ProjectBindings:
    """Every project's cloud, from one listing of the Clouds API's accounts read again every
    ``ttl`` seconds: the scheduler filters' answer.

    When the Clouds API cannot answer, the last listing stands, however old: bindings are made
    and removed only through that API, so during its outage nothing changes but what was
    bound in the last ``ttl`` seconds before it. Scheduling in the whole cloud (evacuations
    included) thus never waits for the Clouds API; only a scheduler that never had a listing
    refuses, since it cannot tell a cloud-bound project from another.
    """

    def __init__(self, client: CloudsClient, ttl: float = BINDING_TTL,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self.ttl = ttl
        self.clock = clock
        self._listing: dict[str, str] | None = None
        self._read_at = 0.0
        self._lock = threading.Lock()

    def provider_of(self, project_id: str) -> str | None:
        """The project's cloud; None when it is bound to none. CloudsUnavailable only
        before a first listing."""
        return self._current().get(project_id)

    def _current(self) -> dict[str, str]:
        with self._lock:
            now = self.clock()
            if self._listing is not None and now - self._read_at < self.ttl:
                return self._listing
            try:
                self._listing = self.client.bindings()
            except CloudsUnavailable as exc:
                if self._listing is None:
                    raise
                LOG.warning("%s; the bindings read %.0f s ago stand until it answers",
                            exc, now - self._read_at)
            self._read_at = now  # asked again after ttl, answered or not
            return self._listing
