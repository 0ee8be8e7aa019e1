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
#: Seconds between two listings of every binding (the schedulers' word during an outage).
LISTING_TTL = 300.0
#: A failed question that took this long (seconds) is not asked again for ``BINDING_TTL``.
SLOW_FAILURE = 2.0


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
    """Which cloud each project is bound to: the scheduler filters' answer.

    A project is asked about on its own when its answer is older than ``ttl`` (a project bound
    just now reaches its cloud at its first request after that), and every ``listing_ttl`` the
    whole listing of bindings is read beside it. When the Clouds API cannot answer, the newer
    of the project's last answer and the last listing stands, however old: bindings are made
    and removed only through that API, so nothing newer exists to miss, and scheduling in the
    whole cloud (evacuations included) never waits for it. After a slow failure (a hung API,
    not a refused connection) the API is asked again only ``ttl`` later, so it costs one
    timeout per ``ttl``, not one per host of every request; a quick failure is asked again at
    once, so a project bound right after the API came back is seen. Only a project neither
    answered nor listed yet cannot be told.
    """

    def __init__(self, client: CloudsClient, ttl: float = BINDING_TTL,
                 listing_ttl: float = LISTING_TTL,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self.ttl = ttl
        self.listing_ttl = listing_ttl
        self.clock = clock
        self._answers: dict[str, tuple[float, str | None]] = {}
        self._listing: tuple[float, dict[str, str]] | None = None
        self._listing_tried_at = -listing_ttl
        self._failed: tuple[float, CloudsUnavailable] | None = None
        self._lock = threading.Lock()

    def provider_of(self, project_id: str) -> str | None:
        """The project's cloud; None when it is bound to none. CloudsUnavailable when the
        Clouds API cannot answer and it has never told about this project."""
        now = self.clock()
        with self._lock:
            cached = self._answers.get(project_id)
            failed = self._failed
        if cached is not None and now - cached[0] < self.ttl:
            return cached[1]
        if failed is not None and now - failed[0] < self.ttl:
            return self._last_word(project_id, failed[1])
        try:
            answer = self.client.binding(project_id)
        except CloudsUnavailable as exc:
            failed_at = self.clock()
            if failed_at - now >= SLOW_FAILURE:  # a hung API, not a refused connection
                with self._lock:
                    self._failed = (failed_at, exc)
            return self._last_word(project_id, exc)
        with self._lock:
            self._answers[project_id] = (now, answer)
            self._failed = None
        self._read_listing(now)
        return answer

    def _read_listing(self, now: float) -> None:
        """Every ``listing_ttl``, the whole listing (tried once then, answered or not)."""
        with self._lock:
            if now - self._listing_tried_at < self.listing_ttl:
                return
            self._listing_tried_at = now
        try:
            listing = self.client.bindings()
        except CloudsUnavailable as exc:
            LOG.warning("%s; the bindings are listed again in %.0f s", exc, self.listing_ttl)
            return
        with self._lock:
            self._listing = (now, listing)

    def _last_word(self, project_id: str, exc: CloudsUnavailable) -> str | None:
        with self._lock:
            words = [self._answers[project_id]] if project_id in self._answers else []
            if self._listing is not None:
                words.append((self._listing[0], self._listing[1].get(project_id)))
        if not words:
            raise exc
        said_at, provider = max(words, key=lambda word: word[0])
        LOG.warning("%s; project %s: the word of %.0f s ago stands (%s)", exc, project_id,
                    self.clock() - said_at, provider or "no cloud")
        return provider
