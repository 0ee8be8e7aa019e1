"""Celery tasks of aos-clouds-worker: the periodic drift report and snapshot cleanup, image
uploads.

Drift is reported (a WARNING line per object, and the task's result), never repaired:
nothing is deleted on either side without an operator's word. The one deletion is the cloud
image of a server snapshot whose Glance image a user deleted (``clouds.snapshots``).
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Celery
from oslo_config import cfg

from aos import tasks
from clouds.accounts import Accounts, NoSuchProject
from clouds.db import api as db
from clouds.image_uploads import HELD, UPLOAD_LEASE, UPLOAD_TASK, ImageUploads
from clouds.module import MODULE
from clouds.openstack_adapter import OpenStackError
from clouds.runtime import Runtime
from clouds.snapshots import delete_orphaned_snapshots
from clouds_drivers.providers.base import CloudError

RECONCILE_TASK = "clouds.reconcile_drift"
SNAPSHOTS_TASK = "clouds.delete_orphaned_snapshots"
LOG = logging.getLogger(__name__)


def reconcile(runtime: Runtime) -> dict[str, Any]:
    """Drift of every account: {project id: [drifted objects]} or {project id: error}."""
    with runtime.transaction() as session:
        projects = [row.project_id for row in db.clouds(session)]
    accounts, report = Accounts(runtime), {}
    for project_id in projects:
        try:
            found = accounts.drift(project_id)
        except (CloudError, OpenStackError, db.NotFound, NoSuchProject) as exc:
            LOG.warning("drift of project %s not checked: %s", project_id, exc)
            report[project_id] = {"error": str(exc)}
            continue
        for item in found:
            LOG.warning("drift: project %s %s %s is mapped to %s, which is %s", project_id,
                        item["kind"], item["openstack_id"], item["cloud_resource_id"],
                        item["drift"])
        report[project_id] = found
    return report


def clean_snapshots(runtime: Runtime) -> dict[str, Any]:
    """{project id: [deleted cloud images]} or {project id: error}, for every account."""
    with runtime.transaction() as session:
        projects = [row.project_id for row in db.clouds(session)]
    report: dict[str, Any] = {}
    for project_id in projects:
        try:
            report[project_id] = delete_orphaned_snapshots(runtime, project_id)
        except (CloudError, OpenStackError, db.NotFound, NoSuchProject) as exc:
            LOG.warning("snapshots of project %s not cleaned up: %s", project_id, exc)
            report[project_id] = {"error": str(exc)}
    return report


def celery_app(conf: cfg.ConfigOpts, runtime: Runtime) -> Celery:
    app = tasks.celery_app(conf, MODULE)
    interval = conf.worker.drift_interval
    if interval > 0:
        app.conf.beat_schedule = {
            "drift": {"task": RECONCILE_TASK, "schedule": interval},
            "snapshots": {"task": SNAPSHOTS_TASK, "schedule": interval}}

    @app.task(name=RECONCILE_TASK)
    def reconcile_drift() -> dict[str, Any]:
        return reconcile(runtime)

    @app.task(name=SNAPSHOTS_TASK)
    def delete_snapshots() -> dict[str, Any]:
        return clean_snapshots(runtime)

    @app.task(name=UPLOAD_TASK, bind=True, max_retries=None)
    def upload_image(self: Any, upload_id: int) -> str:
        """Another worker holding the upload (this message was delivered twice, or that
        worker died and its lease runs out): ask again once a lease has passed."""
        state = ImageUploads(runtime).run(upload_id)
        if state == HELD:
            raise self.retry(countdown=UPLOAD_LEASE)
        return state

    return app
