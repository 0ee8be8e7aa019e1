"""Run a whole transaction again when the database chose it as a deadlock victim (or,
``retry_on_conflict``, when another transaction inserted the same row first).

MySQL/MariaDB (and PostgreSQL) roll back one of two transactions that lock rows in opposite
orders and tell its client to retry: the work was not done, so doing it again is correct.
This is what oslo.db's ``wrap_db_retry(retry_on_deadlock=True)`` does; oslo.db itself would
have to translate every database error of the engine into its own types (``DBDeadlock``), which
the callers here do not expect, so the same rule is written on tenacity. Only a function that
opens its own transaction may be wrapped (a retry inside a caller's transaction would find it
rolled back).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

import tenacity
from sqlalchemy import exc as sa_exc

LOG = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable)

# MySQL/MariaDB: 1213 deadlock found, 1205 lock wait timeout (InnoDB rolled back the
# statement only, but callers' transactions are short: the whole of it goes again).
MYSQL_RETRY_CODES = frozenset({1213, 1205})
# PostgreSQL SQLSTATE: deadlock_detected, serialization_failure.
POSTGRESQL_RETRY_STATES = frozenset({"40P01", "40001"})

MYSQL_DUPLICATE_KEY = 1062
POSTGRESQL_UNIQUE_VIOLATION = "23505"

ATTEMPTS = 5


def is_deadlock(exc: BaseException) -> bool:
    """The database rolled this transaction back so that another one could go on."""
    if not isinstance(exc, sa_exc.DBAPIError) or exc.orig is None:
        return False
    args = getattr(exc.orig, "args", ())
    if args and isinstance(args[0], int):
        return args[0] in MYSQL_RETRY_CODES
    return getattr(exc.orig, "pgcode", None) in POSTGRESQL_RETRY_STATES


def is_duplicate_key(exc: BaseException) -> bool:
    """Another transaction inserted a row with the same key first (after this one looked)."""
    if not isinstance(exc, sa_exc.IntegrityError) or exc.orig is None:
        return False
    args = getattr(exc.orig, "args", ())
    if args and isinstance(args[0], int):
        return args[0] == MYSQL_DUPLICATE_KEY
    return getattr(exc.orig, "pgcode", None) == POSTGRESQL_UNIQUE_VIOLATION


def is_conflict(exc: BaseException) -> bool:
    return is_deadlock(exc) or is_duplicate_key(exc)


def _log(state: tenacity.RetryCallState) -> None:
    LOG.warning("%s: conflict with another transaction (%s); attempt %d of %d in %.2fs",
                getattr(state.fn, "__qualname__", state.fn),
                state.outcome.exception() if state.outcome else "?", state.attempt_number + 1,
                ATTEMPTS, state.next_action.sleep if state.next_action else 0)


def _retrying(retry_when: Callable[[BaseException], bool]) -> Callable[[F], F]:
    return tenacity.retry(
        retry=tenacity.retry_if_exception(retry_when),
        stop=tenacity.stop_after_attempt(ATTEMPTS),
        wait=tenacity.wait_random_exponential(multiplier=0.02, max=0.5),
        before_sleep=_log, reraise=True)


def retry_on_deadlock(fn: F) -> F:
    """``fn`` (one whole transaction) run up to ``ATTEMPTS`` times while it is a deadlock
    victim, after a short random back-off so that the two transactions do not meet again."""
    return _retrying(is_deadlock)(fn)


def retry_on_conflict(fn: F) -> F:
    """As ``retry_on_deadlock``, and also when another transaction inserted a row this one
    was about to insert: run again, it finds the row and updates it instead (an upsert
    without dialect-specific SQL)."""
    return _retrying(is_conflict)(fn)
