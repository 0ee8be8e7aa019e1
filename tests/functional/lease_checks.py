"""Task leases on a real server's clock and the one-active-task constraint (any backend)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from cloud_manager.db import api as db_api


def check_leases_and_one_active_task(sessions: sessionmaker[Session], utc_now_sql: str) -> None:
    """``utc_now_sql``: the server's naive UTC time, to compare the stored lease with."""
    lease = timedelta(seconds=60)
    with sessions.begin() as session:
        db_api.ensure_nodes(session, ["c1"])
        task_id = db_api.create_task(session, hostname="c1", kind="manual-evacuation",
                                     strategy="auto", reason="t", lease=lease).id
    with sessions.begin() as session, pytest.raises(db_api.Conflict):
        db_api.create_task(session, hostname="c1", kind="manual-evacuation", strategy="auto",
                           reason="t", lease=lease)
    with sessions.begin() as session:
        assert db_api.claim_task(session, task_id, "w1", lease) is not None
        assert db_api.claim_task(session, task_id, "w2", lease) is None
        db_api.hold_task(session, task_id, "w1", lease)
        row = db_api.task(session, task_id)
        utc_now = session.scalar(sa.text(utc_now_sql))
        assert timedelta(seconds=59) < row.lease_until - utc_now <= lease
        assert db_api.take_orphaned_tasks(session, 60) == []
    with sessions.begin() as session:
        db_api.task(session, task_id).lease_until = utc_now - timedelta(seconds=1)
    with sessions.begin() as session:
        assert db_api.take_orphaned_tasks(session, 60) == [task_id]
        assert db_api.claim_task(session, task_id, "w2", lease) is not None
        with pytest.raises(db_api.LeaseLost):
            db_api.hold_task(session, task_id, "w1", lease)
        db_api.end_task(session, db_api.task(session, task_id), "aborted", "t")
    with sessions.begin() as session:  # an ended task frees the node's slot
        db_api.create_task(session, hostname="c1", kind="manual-evacuation", strategy="auto",
                           reason="t", lease=lease)
