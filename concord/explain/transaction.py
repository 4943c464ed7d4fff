"""The transaction every explain runs in: always rolled back, its waits and its statements bounded.

`LOCK_TIMEOUT` bounds the wait for a lock (``--without-index``'s DROP INDEX behind a race, say).

``EXPLAIN ANALYZE`` executes the statement, and ``--sql`` takes any statement: without a bound,
``SELECT pg_sleep(600)`` would hold a backend for ten minutes. So each explain's transaction
gets a ``statement_timeout`` (60 s unless told; ``SET LOCAL``, so it ends with the transaction,
which is always rolled back), and the server cancels the statement itself when it runs past.

Ctrl-C and SIGTERM end it sooner: psycopg sends the server a cancel request when a
KeyboardInterrupt interrupts a query, and SIGTERM raises one (`concord.cli.errors.Terminated`).
A SIGKILL leaves nobody to send it: the server, which does not watch the connection while a
statement runs, goes on until the statement ends or the timeout strikes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TypeVar

import psycopg
import sqlalchemy as sa
from sqlalchemy import URL

from concord.db import migrate
from concord.db.engine import create_engine
from concord.db.urls import resolve_url
from concord.errors import (
    ConcordError,
    LockNotAvailable,
    QueryCanceled,
    StatementTimeout,
    error_class,
    translate,
)
from concord.explain.errors import ExplainFailed, ExplainUsageError

LOCK_TIMEOUT = "2s"
T = TypeVar("T")

DEFAULT_STATEMENT_TIMEOUT_S = 60.0
#: statement_timeout is an int of milliseconds on the server.
MAX_STATEMENT_TIMEOUT_S = 2_147_483


def statement_timeout_ms(seconds: float | str) -> int:
    """``seconds`` (a number, or its text from the command line) as whole milliseconds, validated.

    Anything but a positive number of seconds up to `MAX_STATEMENT_TIMEOUT_S` is
    `ExplainUsageError`. Zero is refused too: on the server it would mean no limit at all.
    """
    try:
        value = float(seconds)
    except (TypeError, ValueError):
        value = math.nan
    if not (math.isfinite(value) and 0.001 <= value <= MAX_STATEMENT_TIMEOUT_S):
        raise ExplainUsageError(
            f"--statement-timeout must be a number of seconds from 0.001 to {MAX_STATEMENT_TIMEOUT_S:,}, "
            f"not {seconds!r}"
        )
    return round(value * 1000)


def set_statement_timeout(timeout_ms: int) -> str:
    """The statement that bounds every statement of an explain's transaction."""
    return f"SET LOCAL statement_timeout = {int(timeout_ms)}"


def timed_out(timeout_ms: int) -> QueryCanceled:
    """The error for a statement the server cancelled at ``statement_timeout``."""
    return QueryCanceled(
        f"the statement ran past the statement timeout ({timeout_ms / 1000:g} s) and the server "
        "cancelled it; its transaction was rolled back (--statement-timeout SECONDS allows longer)"
    )


def in_rolled_back_transaction(
    database_url: str | URL | None,
    run: Callable[[sa.Connection], T],
    statement_timeout_s: float | str = DEFAULT_STATEMENT_TIMEOUT_S,
) -> T:
    """Run ``run(connection)`` in a transaction that is rolled back whatever happens, with a
    lock_timeout and a statement_timeout. A fresh database is migrated first, as every concord
    command does. A bad ``statement_timeout_s`` is refused before anything connects."""
    timeout_ms = statement_timeout_ms(statement_timeout_s)
    url = resolve_url(
        database_url.render_as_string(hide_password=False) if isinstance(database_url, URL) else database_url
    )
    engine = create_engine(url, poolclass=sa.NullPool)
    try:
        migrate.ensure_schema(engine)
        with engine.connect() as conn, conn.begin() as transaction:
            try:
                conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
                conn.exec_driver_sql(set_statement_timeout(timeout_ms))
                return run(conn)
            finally:
                transaction.rollback()  # always, whatever the statement did (see explain_sql)
    except (sa.exc.DBAPIError, psycopg.Error) as exc:
        raise _explain_error(exc, timeout_ms) from exc
    finally:
        engine.dispose()


def _explain_error(exc: Exception, timeout_ms: int) -> BaseException:
    """Syntax and name errors (SQLSTATE class 42) are the caller's; a second statement too."""
    orig = getattr(exc, "orig", None) or exc
    message = (str(orig).strip() or type(orig).__name__).splitlines()[0]
    state = getattr(orig, "sqlstate", None) or ""
    if "cannot insert multiple commands" in message:
        return ExplainUsageError("--sql takes exactly one statement, and this holds more than one")
    if state == "55P03":
        return LockNotAvailable(
            f"gave up after {LOCK_TIMEOUT} waiting for a lock another transaction holds "
            "(lock_timeout); nothing changed: try again when it ends"
        )
    if error_class(exc) is StatementTimeout:  # not a cancel from elsewhere
        return timed_out(timeout_ms)
    if state.startswith("42"):
        return ExplainUsageError(f"the server refused the statement: {message}")
    translated = translate(exc)
    if isinstance(translated, ConcordError):
        return translated
    return ExplainFailed(f"explain failed: {message}", sqlstate=state or None)
