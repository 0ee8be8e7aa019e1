"""``clouds_drivers.nova.scheduler.filter.CloudProjectFilter`` (spec 000, nova.conf on the
control node): servers of a cloud-bound project land only on that cloud's compute hosts
(those whose driver reports ``hypervisor_type`` ``aws`` or ``yandex``); servers of every
other project never land there.

Bindings come from the Clouds API (nova.conf ``[clouds]``, as for the drivers), through
``project_clouds.ProjectBindings``: a project is asked about when its answer is older than
``BINDING_TTL``, and while the Clouds API cannot answer the newest word about it stands (its
last answer or the last listing of all bindings), so an outage of the Clouds API never stops
scheduling in the rest of the cloud (an evacuation included). A project with no word at all
passes no host: placing a server of a project that may be cloud-bound on a local hypervisor
(or the reverse) would run it where its owner did not ask, and a refused boot can simply be
retried.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from nova.conf import CONF
from nova.scheduler import filters

from clouds_drivers import service_conf
from clouds_drivers.clouds_api import CloudsUnavailable
from clouds_drivers.nova.scheduler import placement_rule
from clouds_drivers.project_clouds import ProjectBindings

LOG = logging.getLogger(__name__)


class CloudProjectFilter(filters.BaseHostFilter):
    """Pass a host iff its cloud (none for ordinary hypervisors) is the project's cloud."""

    # Same host on rebuild: nothing to decide.
    RUN_ON_REBUILD = False

    def __init__(self) -> None:
        super().__init__()
        self._projects: ProjectBindings | None = None
        self._lock = threading.Lock()

    def _bindings(self) -> ProjectBindings:
        with self._lock:
            if self._projects is None:
                self._projects = ProjectBindings(service_conf.clouds_client(CONF))
            return self._projects

    def host_passes(self, host_state: Any, spec_obj: Any) -> bool:
        project_id = spec_obj.project_id
        try:
            project = self._bindings().provider_of(project_id)
        except CloudsUnavailable as exc:
            LOG.warning("CloudProjectFilter: %s; host %s refused for project %s", exc,
                        host_state.host, project_id)
            return False
        host = placement_rule.host_cloud(host_state.hypervisor_type)
        passes = placement_rule.host_fits(host, project)
        if not passes:
            LOG.debug("CloudProjectFilter: host %s (%s) refused for project %s (%s)",
                      host_state.host, host or "no cloud", project_id, project or "no cloud")
        return passes
