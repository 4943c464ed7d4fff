"""The workers' libpq session reading results: psycopg's loaders, and its fallback for unknown types."""

from __future__ import annotations

import psycopg
import pytest
import sqlalchemy as sa
from test_race_support import dsn

from concord.race.libpq import LibpqSession
from concord.race.steps import Fetch, Sql


def test_a_column_of_a_type_psycopg_has_no_loader_for_reads_as_its_text(database_url):
    with psycopg.connect(dsn(database_url), autocommit=True) as conn:
        conn.execute("CREATE TYPE mood AS ENUM ('calm', 'racing')")
        session = LibpqSession(conn, "read committed")
        session.begin()
        row = session.execute(Sql.of(sa.text("SELECT 'racing'::mood, 7::int4, 'x'::text"), Fetch.ROW), {})
        scalar = session.execute(Sql.of(sa.text("SELECT 'calm'::mood"), Fetch.SCALAR), {})
        session.commit()
    assert (row, scalar) == (("racing", 7, "x"), "calm")


def _steps():
    """An operation that reads a row, a scalar, writes and counts: every kind of fetch."""
    from concord.race.steps import DONE, Outcome, Status

    row = yield Sql.of(sa.text("SELECT 1::int4, NULL::text, 'a'::text"), Fetch.ROW), {}
    missing = yield Sql.of(sa.text("SELECT 1 WHERE false"), Fetch.ROW), {}
    total = yield Sql.of(sa.text("SELECT sum(n) FROM t"), Fetch.SCALAR), {}
    written = yield Sql.of(sa.text("UPDATE t SET n = n + 1"), Fetch.ROWCOUNT), {}
    nothing = yield Sql.of(sa.text("SELECT 1"), Fetch.NOTHING), {}
    return Outcome(Status.DONE, (row, missing, total, written, nothing)) if row else DONE


def test_a_whole_transaction_in_one_call_loads_each_step_as_asked_and_commits(database_url):
    with psycopg.connect(dsn(database_url), autocommit=True) as conn:
        conn.execute("CREATE TABLE t (n int)")
        conn.execute("INSERT INTO t VALUES (1), (2)")
        session = LibpqSession(conn, "read committed")
        outcome = session.transaction(_steps())
        again = session.transaction(_steps())  # the plans prepared the first time
        assert not session.in_transaction()
        assert conn.execute("SELECT sum(n) FROM t").fetchone() == (7,)
    assert outcome.payload == ((1, None, "a"), None, 3, 2, None)
    assert again.payload == ((1, None, "a"), None, 5, 2, None)


def test_a_failing_step_leaves_the_transaction_open_for_the_caller_to_roll_back(database_url):
    def failing():
        yield Sql.of(sa.text("UPDATE t SET n = 0"), Fetch.ROWCOUNT), {}
        yield Sql.of(sa.text("SELECT 1 / 0"), Fetch.SCALAR), {}

    with psycopg.connect(dsn(database_url), autocommit=True) as conn:
        conn.execute("CREATE TABLE t (n int)")
        conn.execute("INSERT INTO t VALUES (1)")
        session = LibpqSession(conn, "read committed")
        with pytest.raises(psycopg.errors.DivisionByZero):
            session.transaction(failing())
        assert session.in_transaction()
        session.rollback()
        assert conn.execute("SELECT n FROM t").fetchone() == (1,)
