"""Storage routes of the CloudManager API: Cinder's pools as storage_sync last saw them
(registered on the same ``API`` as the others). Unknown pool: 404."""

from __future__ import annotations

from typing import Any

from aos.api.app import RequestContext
from aos.api.policy import operation
from cloud_manager.api import schemas, views
from cloud_manager.api.policies import READER, RULES
from cloud_manager.api.routes import API, _transaction
from cloud_manager.db import api as db

RULES.extend([
    operation("cloud_manager:storage:list", READER, "List Cinder's storage pools.",
              "GET", "/v1/storage"),
    operation("cloud_manager:storage:show", READER,
              "Show a Cinder storage pool and the last storage sync.",
              "GET", "/v1/storage/{pool}"),
])


@API.route("/v1/storage", rule="cloud_manager:storage:list",
           summary="List Cinder's storage pools as the last storage sync saw them.",
           response=schemas.array_of(schemas.STORAGE_POOL))
def list_pools(context: RequestContext) -> list[dict[str, Any]]:
    with _transaction() as session:
        return [views.storage_pool(pool) for pool in db.storage_pools(session).values()]


@API.route("/v1/storage/{pool}", rule="cloud_manager:storage:show",
           summary="Show a storage pool (host@backend#pool, '#' sent as %23) and the last "
           "storage sync.", response=schemas.STORAGE_POOL_DETAIL)
def show_pool(context: RequestContext, pool: str) -> dict[str, Any]:
    with _transaction() as session:
        record = db.storage_pool(session, pool)
        return views.storage_pool_detail(record, db.last_storage_sync(session),
                                         db.last_storage_sync(session, ok=True))
