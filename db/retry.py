"""Running a transaction again after the database gave up on it for a reason that passes: a lock or a deadlock.

SQLite answers "database is locked" when another connection kept the write lock past the busy timeout (a long
purge, a `kcxf rekey`, a checkpoint); PostgreSQL aborts one transaction of a deadlock and, under stricter
isolation, one of two that could not be serialized. None of these says anything about the event itself: the
same work succeeds once the other transaction is done. The waits grow and are jittered, so that the transactions
that collided do not collide again in step.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy.exc import DBAPIError
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    wait_random_exponential,
)

__all__ = ["MAX_ATTEMPTS", "attempts", "is_transient"]

log = logging.getLogger(__name__)

# PostgreSQL's serialization_failure and deadlock_detected (class 40, transaction rollback).
TRANSIENT_SQLSTATES = frozenset({"40001", "40P01"})
MAX_ATTEMPTS = 8
# The first wait is up to FIRST_WAIT_S, each later one up to twice the one before, none over MAX_WAIT_S; and no
# attempt starts after GIVE_UP_S (on SQLite each attempt may itself wait the busy timeout for the lock).
FIRST_WAIT_S = 0.02
MAX_WAIT_S = 1.0
GIVE_UP_S = 30.0


def is_transient(exc: BaseException) -> bool:
    """Whether the database refused the transaction for a moment only: locked, deadlocked, not serializable."""
    if not isinstance(exc, DBAPIError):
        return False
    orig = exc.orig
    if "database is locked" in str(orig):
        return True
    # SQLAlchemy's asyncpg adapter copies the SQLSTATE onto its own exception; the driver's is its cause.
    sqlstate = getattr(orig, "sqlstate", None) or getattr(getattr(orig, "__cause__", None), "sqlstate", None)
    return sqlstate in TRANSIENT_SQLSTATES


def attempts(
    *, retry_on: Callable[[BaseException], bool] = is_transient,
    note: Callable[[int, BaseException | None], None] | None = None,
) -> AsyncRetrying:
    """Attempts for `async for attempt in attempts(): with attempt: ...`; the last failure is raised as itself.

    `note(attempt_number, exception)` is told of each failed attempt that is tried again (default: logged here).
    """
    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome is not None else None
        if note is not None:
            note(state.attempt_number, exc)
        else:
            log.info("transaction failed (attempt %d), trying again: %s", state.attempt_number, exc)

    return AsyncRetrying(
        retry=retry_if_exception(retry_on),
        wait=wait_random_exponential(multiplier=FIRST_WAIT_S, max=MAX_WAIT_S),
        stop=stop_after_attempt(MAX_ATTEMPTS) | stop_after_delay(GIVE_UP_S),
        before_sleep=before_sleep,
        reraise=True,
    )
