"""GET /v1/storage and /v1/storage/{pool}: what storage_sync stored, in the documented shape."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote

import jsonschema
import pytest

from cloud_manager.api import cloud_manager_api, schemas
from cloud_manager.db import api as db_api
from cloud_manager.model.storage import PoolRecord, PoolState
from tests.unit.cloud_manager.test_api import error_of, make_conf

T0 = datetime(2026, 12, 1, 12, 0, 0)


@pytest.fixture
def app(aos_env):
    return cloud_manager_api.create_app(make_conf(aos_env))


def stored_pool(name: str, state: PoolState = PoolState.UP, total=100.0) -> PoolRecord:
    backend = name.partition("#")[0]
    return PoolRecord(name=name, backend=backend, volume_backend_name=name.partition("#")[2],
                      total_gb=total, free_gb=total, allocated_gb=0.0, enabled=True,
                      state=state, state_reason="reported by Cinder", state_since=T0,
                      hosts=("c1",), reported_at=T0)


@pytest.fixture
def stored(runtime):
    with runtime.transaction() as session:
        db_api.write_pools(session, [stored_pool("ctl@ebs#ebs", PoolState.DOWN),
                                     stored_pool("ctl@yandex#yandex", total="infinite")])
        db_api.add_storage_sync(session, started_at=T0, ok=True, pools=2, message="2 pools")
        db_api.add_storage_sync(session, started_at=T0, ok=False, pools=0,
                                message="sync failed: Cinder did not answer: timed out")


def test_list_shows_every_pool_in_the_documented_shape(client, stored):
    listed = client.get("/v1/storage").get_json()
    jsonschema.validate(listed, schemas.array_of(schemas.STORAGE_POOL))
    assert [(p["name"], p["state"], p["total_capacity_gb"]) for p in listed] == [
        ("ctl@ebs#ebs", "down", 100.0), ("ctl@yandex#yandex", "up", "infinite")]
    assert listed[0]["hosts"] == ["c1"] and listed[0]["state_since"] == "2026-12-01T12:00:00.000Z"


def test_show_a_pool_with_the_last_sync_and_the_last_good_one(client, stored):
    shown = client.get("/v1/storage/" + quote("ctl@ebs#ebs", safe="")).get_json()
    jsonschema.validate(shown, schemas.STORAGE_POOL_DETAIL)
    assert shown["name"] == "ctl@ebs#ebs" and shown["backend"] == "ctl@ebs"
    assert shown["last_sync"]["ok"] is False and "timed out" in shown["last_sync"]["message"]
    assert shown["last_good_sync"]["pools"] == 2


def test_an_unknown_pool_is_404_with_a_message(client, stored):
    message = error_of(client.get("/v1/storage/nowhere%23x"), 404)
    assert message == "no storage pool 'nowhere#x' (storage_sync has not seen it)"


def test_no_sync_yet_lists_nothing(client):
    assert client.get("/v1/storage").get_json() == []
