"""Cloud images of deleted server snapshots are deleted with them.

A server snapshot on a cloud host (Nova's createImage) is a cloud image the compute driver
made for one Glance image and recorded in the resource map with the server it came from.
Deleting that Glance image is the user's word for its cloud image as well; Glance offers no
hook for it, so the Clouds worker looks on its periodic pass. Only such snapshots are
touched: images registered with ``clouds images register`` (the cloud's or someone else's)
and uploads are never deleted.
"""

from __future__ import annotations

import logging
from typing import Any

from clouds.accounts import Accounts
from clouds.db import api as db
from clouds.runtime import Runtime

LOG = logging.getLogger(__name__)

IMAGE_KIND = "image"


def is_server_snapshot(data: dict[str, Any]) -> bool:
    """The compute driver records the server a snapshot came from; nothing else does."""
    return bool(data.get("instance"))


def delete_orphaned_snapshots(runtime: Runtime, project: str) -> list[dict[str, str]]:
    """Delete in the cloud the snapshots whose Glance image is gone; what was deleted."""
    accounts = Accounts(runtime)
    with runtime.transaction() as session:
        row, _ = accounts.row_of(session, project)
        account, cloud_id, project_id = accounts.account(row), row.id, row.project_id
        snapshots = [(r.openstack_id, r.cloud_resource_id)
                     for r in db.resources(session, cloud_id, IMAGE_KIND)
                     if is_server_snapshot(db.data_of(r))]
    provider = runtime.provider(account.provider)
    deleted = []
    for glance_id, cloud_image in snapshots:
        if runtime.openstack.image(glance_id) is not None:
            continue
        provider.delete_image(account, cloud_image)
        with runtime.transaction() as session:
            found = db.find_mapping(session, cloud_id, IMAGE_KIND, glance_id)
            if found is not None:
                db.forget(session, found)
        LOG.info("project %s: snapshot %s was deleted from Glance; its %s image %s is "
                 "deleted too", project_id, glance_id, account.provider, cloud_image)
        deleted.append({"glance_image_id": glance_id, "cloud_image_id": cloud_image})
    return deleted
