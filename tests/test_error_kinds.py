"""One SQLSTATE table (concord.errors): what the server raised, told apart by what it reported.

55P03 is a NOWAIT refusal or a lock_timeout, 57014 a statement_timeout or a cancel request: each
pair is forced here on a real server (a row held by another session, a sleep cancelled while
pg_stat_activity shows it sleeping) and classified by `error_class` / `kind_of`, as the retry
rules and the race's conflict counts read them.
"""

from __future__ import annotations

import threading
import time

import psycopg
import psycopg.errors
import pytest
from test_race_support import dsn

from concord.errors import (
    LockNotAvailable,
    LockTimeout,
    QueryCanceled,
    StatementTimeout,
    error_class,
    kind_of,
    translate,
)
from concord.locking.retry import classify


@pytest.fixture
def held_row(database_url):
    """A row of a table of its own, locked FOR UPDATE by a session that keeps it until the end."""
    holder = psycopg.connect(dsn(database_url), autocommit=True)
    holder.execute("CREATE TABLE held (id int PRIMARY KEY); INSERT INTO held VALUES (1)")
    holder.execute("BEGIN")
    holder.execute("SELECT id FROM held WHERE id = 1 FOR UPDATE")
    yield database_url
    holder.close()


def failure(url, *statements: str) -> psycopg.Error:
    """The error the last of ``statements`` raises, in a transaction of its own."""
    with psycopg.connect(dsn(url)) as conn:
        for statement in statements[:-1]:
            conn.execute(statement)
        with pytest.raises(psycopg.Error) as caught:
            conn.execute(statements[-1])
    return caught.value


def test_a_nowait_refusal_is_lock_not_available(held_row):
    error = failure(held_row, "SELECT id FROM held WHERE id = 1 FOR UPDATE NOWAIT")
    assert (error_class(error), kind_of(error), classify(error)) == (
        LockNotAvailable,
        ("lock_not_available", "55P03"),
        ("lock_not_available", "55P03"),
    )
    assert type(translate(error)) is LockNotAvailable


def test_a_table_lock_refused_at_once_is_lock_not_available_too(held_row):
    error = failure(held_row, "LOCK TABLE held IN ACCESS EXCLUSIVE MODE NOWAIT")
    assert kind_of(error) == ("lock_not_available", "55P03")


def test_a_lock_wait_past_lock_timeout_is_a_lock_timeout_by_the_routine_that_raised_it(held_row):
    error = failure(held_row, "SET LOCAL lock_timeout = '20ms'", "UPDATE held SET id = 1 WHERE id = 1")
    # the same SQLSTATE as NOWAIT; the server's report names the interrupt handler, in any language
    assert (error.sqlstate, error.diag.source_function) == ("55P03", "ProcessInterrupts")
    assert (error_class(error), kind_of(error)) == (LockTimeout, ("lock_timeout", "55P03"))
    translated = translate(error)
    assert type(translated) is LockTimeout and isinstance(translated, LockNotAvailable)


def test_a_statement_past_statement_timeout_is_a_statement_timeout(database_url):
    error = failure(database_url, "SET LOCAL statement_timeout = '20ms'", "SELECT pg_sleep(5)")
    assert (error_class(error), kind_of(error)) == (StatementTimeout, ("statement_timeout", "57014"))
    assert isinstance(translate(error), QueryCanceled)


def test_a_cancel_request_is_query_canceled_not_a_timeout(database_url):
    with (
        psycopg.connect(dsn(database_url), autocommit=True) as sleeper,
        psycopg.connect(dsn(database_url), autocommit=True) as control,
    ):
        pid = sleeper.info.backend_pid
        caught: list[BaseException] = []

        def sleep() -> None:
            try:
                sleeper.execute("SELECT pg_sleep(30)")
            except psycopg.Error as exc:
                caught.append(exc)

        thread = threading.Thread(target=sleep)
        thread.start()
        deadline = time.monotonic() + 20
        while not control.execute(
            "SELECT 1 FROM pg_stat_activity WHERE pid = %s AND wait_event = 'PgSleep' "
            "AND datname = current_database()",
            (pid,),
        ).fetchone():
            assert time.monotonic() < deadline, "the sleep never started"
            time.sleep(0.01)  # polling the server's state, not lining anything up
        control.execute("SELECT pg_cancel_backend(%s)", (pid,))
        thread.join(10)
    [error] = caught
    assert (error_class(error), kind_of(error)) == (QueryCanceled, ("query_canceled", "57014"))
    assert type(translate(error)) is QueryCanceled
