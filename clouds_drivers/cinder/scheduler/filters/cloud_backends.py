"""``CloudBackendsFilter`` (spec 000's ``scheduler_default_filters``): a cloud-bound project's
volumes land only on its cloud's backends, other projects' never do.

A backend's cloud is the ``aos_cloud`` capability its driver reports; a project's is its
account in the Clouds API, asked and kept as Nova's CloudProjectFilter does
(``project_clouds.ProjectBindings``: the newest word stands while the API is down). For a
project with no word at all, no backend passes: a wrong guess either way would put a volume
in the wrong place.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from cinder.scheduler import filters
from oslo_config import cfg

from clouds_drivers import service_conf
from clouds_drivers.cinder import decide
from clouds_drivers.clouds_api import CloudsUnavailable
from clouds_drivers.project_clouds import ProjectBindings

LOG = logging.getLogger(__name__)


@functools.cache
def _bindings() -> ProjectBindings:
    """One per scheduler process (Cinder makes a filter object per request), so the listing
    and the Keystone token outlive a request."""
    return ProjectBindings(service_conf.clouds_client(cfg.CONF))


class CloudBackendsFilter(filters.BaseBackendFilter):
    def __init__(self) -> None:
        # Projects the Clouds API could not tell about in this request: asked once, not once
        # per backend (each ask may wait for its timeout).
        self._unknown: set[str] = set()

    def _project_cloud(self, project_id: str) -> str | None:
        if project_id in self._unknown:
            raise CloudsUnavailable("asked already in this request")
        try:
            return _bindings().provider_of(project_id)
        except CloudsUnavailable as exc:
            if project_id not in self._unknown:
                LOG.error("CloudBackendsFilter: no backend for project %s: %s", project_id, exc)
            self._unknown.add(project_id)
            raise

    def backend_passes(self, backend_state: Any, filter_properties: dict[str, Any]) -> bool:
        project_id = decide.project_of(filter_properties)
        try:
            project_cloud = self._project_cloud(project_id) if project_id else None
        except CloudsUnavailable:
            return False
        backend_cloud = (backend_state.capabilities or {}).get(decide.CLOUD_CAPABILITY)
        passes = decide.backend_allowed(project_cloud, backend_cloud)
        if not passes:
            LOG.debug("CloudBackendsFilter: %s (cloud %s) is not for project %s (cloud %s)",
                      backend_state.backend_id, backend_cloud, project_id, project_cloud)
        return passes
