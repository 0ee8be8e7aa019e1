"""``CloudBackendsFilter`` (spec 000's ``scheduler_default_filters``): a cloud-bound project's
volumes land only on its cloud's backends, other projects' never do.

A backend's cloud is the ``aos_cloud`` capability its driver reports; a project's is its
account in the Clouds API (asked once per scheduling request: Cinder makes a new filter
object for each). When the Clouds API cannot answer, no backend passes: a wrong guess either
way would put a volume in the wrong place.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from cinder.scheduler import filters
from oslo_config import cfg

from clouds_drivers import service_conf
from clouds_drivers.cinder import decide
from clouds_drivers.clouds_api import CloudsClient, CloudsUnavailable

LOG = logging.getLogger(__name__)
_UNKNOWN = object()


@functools.cache
def _clouds() -> CloudsClient:
    """One client per scheduler process, so its Keystone token is reused across requests."""
    return service_conf.clouds_client(cfg.CONF)


class CloudBackendsFilter(filters.BaseBackendFilter):
    def __init__(self) -> None:
        self._cloud_of: dict[str, Any] = {}

    def _project_cloud(self, project_id: str) -> Any:
        if project_id not in self._cloud_of:
            try:
                found = _clouds().project_cloud(project_id)
                self._cloud_of[project_id] = found.provider if found else None
            except CloudsUnavailable as exc:
                LOG.error("CloudBackendsFilter: no backend for project %s: %s", project_id, exc)
                self._cloud_of[project_id] = _UNKNOWN
        return self._cloud_of[project_id]

    def backend_passes(self, backend_state: Any, filter_properties: dict[str, Any]) -> bool:
        project_id = decide.project_of(filter_properties)
        project_cloud = self._project_cloud(project_id) if project_id else None
        if project_cloud is _UNKNOWN:
            return False
        backend_cloud = (backend_state.capabilities or {}).get(decide.CLOUD_CAPABILITY)
        passes = decide.backend_allowed(project_cloud, backend_cloud)
        if not passes:
            LOG.debug("CloudBackendsFilter: %s (cloud %s) is not for project %s (cloud %s)",
                      backend_state.backend_id, backend_cloud, project_id, project_cloud)
        return passes
