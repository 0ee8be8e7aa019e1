"""Run a whole transaction again when the database chose it as a deadlock victim.

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

ATTEMPTS = 5


def is_deadlock(exc: BaseException) -> bool:
    """The database rolled this transaction back so that another one could go on."""
    if not isinstance(exc, sa_exc.DBAPIError) or exc.orig is None:
        return False
    args = getattr(exc.orig, "args", ())
    if args and isinstance(args[0], int):
        return args[0] in MYSQL_RETRY_CODES
    return getattr(exc.orig, "pgcode", None) in POSTGRESQL_RETRY_STATES


def _log(state: tenacity.RetryCallState) -> None:
    LOG.warning("%s: deadlock (%s); attempt %d of %d in %.2fs",
                getattr(state.fn, "__qualname__", state.fn),
                state.outcome.exception() if state.outcome else "?", state.attempt_number + 1,
                ATTEMPTS, state.next_action.sleep if state.next_action else 0)


def retry_on_deadlock(fn: F) -> F:
    """``fn`` (one whole transaction) run up to ``ATTEMPTS`` times while it is a deadlock
    victim, after a short random back-off so that the two transactions do not meet again."""
    return tenacity.retry(
        retry=tenacity.retry_if_exception(is_deadlock),
        stop=tenacity.stop_after_attempt(ATTEMPTS),
        wait=tenacity.wait_random_exponential(multiplier=0.02, max=0.5),
        before_sleep=_log, reraise=True)(fn)
