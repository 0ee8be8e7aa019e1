"""A transaction the database picked as a deadlock victim is run again (``aos.db.retry``)."""

from __future__ import annotations

import pymysql
import pytest
from sqlalchemy import exc as sa_exc

from aos.db import retry
from aos.db.retry import ATTEMPTS, is_deadlock, retry_on_deadlock


def mysql_error(code: int, message: str) -> sa_exc.OperationalError:
    """What SQLAlchemy raises for PyMySQL's error ``code`` (as the server sends it)."""
    return sa_exc.OperationalError("UPDATE tasks SET ...", {},
                                   pymysql.err.OperationalError(code, message))


def postgresql_error(sqlstate: str) -> sa_exc.OperationalError:
    """psycopg2 sets ``pgcode`` from the server's answer (a hand-made instance has none)."""
    orig = type("PostgreSQLError", (Exception,), {"pgcode": sqlstate})("could not serialize")
    return sa_exc.OperationalError("UPDATE tasks SET ...", {}, orig)


DEADLOCK = "Deadlock found when trying to get lock; try restarting transaction"


@pytest.mark.parametrize(("error", "expected"), [
    (mysql_error(1213, DEADLOCK), True),
    (mysql_error(1205, "Lock wait timeout exceeded; try restarting transaction"), True),
    (sa_exc.IntegrityError("INSERT", {}, pymysql.err.IntegrityError(1062, "Duplicate")), False),
    (mysql_error(2013, "Lost connection to MySQL server during query"), False),
    (postgresql_error("40P01"), True),
    (postgresql_error("40001"), True),
    (postgresql_error("23505"), False),
    (ValueError("1213"), False),
])
def test_only_a_deadlock_or_lock_timeout_is_retried(error, expected):
    assert is_deadlock(error) is expected


@pytest.fixture
def no_wait(monkeypatch):
    monkeypatch.setattr(retry.tenacity.nap, "sleep", lambda _s: None)


def test_a_deadlock_victim_is_run_again_until_it_commits(no_wait):
    calls = []

    @retry_on_deadlock
    def transaction(value: int) -> int:
        calls.append(value)
        if len(calls) < 3:
            raise mysql_error(1213, DEADLOCK)
        return value * 2

    assert transaction(21) == 42
    assert calls == [21, 21, 21]


def test_a_transaction_that_stays_a_victim_raises_the_database_error(no_wait):
    calls = []

    @retry_on_deadlock
    def transaction() -> None:
        calls.append(1)
        raise mysql_error(1213, DEADLOCK)

    with pytest.raises(sa_exc.OperationalError, match="Deadlock found"):
        transaction()
    assert len(calls) == ATTEMPTS


def test_any_other_error_is_raised_at_once(no_wait):
    calls = []

    @retry_on_deadlock
    def transaction() -> None:
        calls.append(1)
        raise mysql_error(2013, "Lost connection")

    with pytest.raises(sa_exc.OperationalError, match="Lost connection"):
        transaction()
    assert len(calls) == 1


def duplicate_key(orig: Exception) -> sa_exc.IntegrityError:
    return sa_exc.IntegrityError("INSERT INTO inventory_instances ...", {}, orig)


@pytest.mark.parametrize(("error", "expected"), [
    (duplicate_key(pymysql.err.IntegrityError(1062, "Duplicate entry 'i1' for key 'PRIMARY'")),
     True),
    (duplicate_key(pymysql.err.IntegrityError(1452, "Cannot add or update a child row")), False),
    (duplicate_key(type("PostgreSQLError", (Exception,), {"pgcode": "23505"})("duplicate")),
     True),
    (duplicate_key(type("PostgreSQLError", (Exception,), {"pgcode": "23503"})("foreign key")),
     False),
])
def test_a_row_inserted_first_by_another_transaction_is_a_conflict(error, expected):
    assert retry.is_duplicate_key(error) is expected
    assert retry.is_conflict(error) is expected


def test_a_conflict_runs_the_transaction_again_and_a_deadlock_too(no_wait):
    errors = [duplicate_key(pymysql.err.IntegrityError(1062, "Duplicate entry")),
              mysql_error(1213, DEADLOCK)]

    @retry.retry_on_conflict
    def transaction() -> str:
        if errors:
            raise errors.pop(0)
        return "updated"

    assert transaction() == "updated"
    assert errors == []


def test_retry_on_deadlock_leaves_a_duplicate_key_to_its_caller(no_wait):
    calls = []

    @retry_on_deadlock
    def transaction() -> None:
        calls.append(1)
        raise duplicate_key(pymysql.err.IntegrityError(1062, "Duplicate entry"))

    with pytest.raises(sa_exc.IntegrityError):
        transaction()
    assert len(calls) == 1
