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


@pytest.mark.parametrize("early", [False, True])
def test_a_whole_transaction_in_one_call_loads_each_step_as_asked_and_commits(database_url, early):
    with psycopg.connect(dsn(database_url), autocommit=True) as conn:
        conn.execute("CREATE TABLE t (n int)")
        conn.execute("INSERT INTO t VALUES (1), (2)")
        session = LibpqSession(conn, "read committed")
        outcome = session.transaction(_steps(), early)
        again = session.transaction(_steps(), early)  # the plans prepared the first time
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


def test_the_first_step_is_made_before_begin_only_when_the_program_says_it_may(database_url):
    """A built-in program's first step is computed before BEGIN; a user scenario's first step
    runs the user's statements, so it must come after BEGIN (`Program.first_step_offline`)."""
    from concord.race.steps import Outcome, Status

    with psycopg.connect(dsn(database_url), autocommit=True) as conn:
        session = LibpqSession(conn, "read committed")

        def seen():
            opened = session.in_transaction()  # libpq's status, as the generator starts
            pid = yield Sql.of(sa.text("SELECT pg_backend_pid()"), Fetch.SCALAR), {}
            return Outcome(Status.DONE, (opened, pid == conn.info.backend_pid))

        def no_steps():
            return Outcome(Status.DONE, session.in_transaction())
            yield  # a generator with no step, as a user scenario's operation is

        assert session.transaction(seen(), True).payload == (False, True)
        assert session.transaction(seen(), False).payload == (True, True)
        assert session.transaction(no_steps(), False).payload is True
        assert session.transaction(no_steps(), True).payload is False
        assert not session.in_transaction()


def test_rows_of_one_two_and_more_columns_load_with_their_nulls(database_url):
    row = lambda text: Sql.of(sa.text(text), Fetch.ROW)  # noqa: E731
    with psycopg.connect(dsn(database_url), autocommit=True) as conn:
        session = LibpqSession(conn, "read committed")
        session.begin()
        found = [
            session.execute(row(text), {})
            for text in (
                "SELECT 5::int8",
                "SELECT NULL::int4",
                "SELECT 1::int2, 'x'::text",
                "SELECT NULL::int4, NULL::text",
                "SELECT 1, NULL::int4, 'a'::text, true",
                "SELECT 1 WHERE false",
            )
            for _ in range(2)  # the loader unrolled for the columns, from the second result on
        ]
        session.commit()
    assert found[::2] == found[1::2]
    assert found[::2] == [(5,), (None,), (1, "x"), (None, None), (1, None, "a", True), None]


def test_parameters_encode_from_the_step_over_the_statements_constants():
    from concord.race.plans import _arguments

    assert _arguments(("a",), {})({"a": 7}) == [b"7"]
    assert _arguments(("a", "b"), {})({"a": None, "b": True}) == [None, b"t"]
    assert _arguments(("a", "b"), {"b": b"9"})({"a": "x"}) == [b"x", b"9"]
    assert _arguments(("a", "b"), {"b": b"9"})({"a": 1, "b": False}) == [b"1", b"f"]
    assert _arguments(("a", "b", "c"), {})({"a": 1, "b": 2, "c": 3.5}) == [b"1", b"2", b"3.5"]
    with pytest.raises(KeyError):
        _arguments(("a",), {})({})


class Watched:
    """psycopg's libpq connection, with whether a transaction was open at each PREPARE noted."""

    def __init__(self, pgconn) -> None:
        self.pgconn, self.prepared_in_transaction = pgconn, []

    def prepare(self, name, command):
        status = self.pgconn.transaction_status
        self.prepared_in_transaction.append(status == psycopg.pq.TransactionStatus.INTRANS)
        return self.pgconn.prepare(name, command)

    def __getattr__(self, name):
        return getattr(self.pgconn, name)


@pytest.mark.parametrize("early", [False, True])
def test_a_statement_is_prepared_inside_the_transaction_even_when_its_step_is_made_early(database_url, early):
    """A Parse sent outside a transaction block is a transaction of its own to the server: one
    commit more in pg_stat_database than the workers made, per worker, in every race."""
    with psycopg.connect(dsn(database_url), autocommit=True) as conn:
        conn.execute("CREATE TABLE t (n int)")
        conn.execute("INSERT INTO t VALUES (1), (2)")
        session = LibpqSession(conn, "read committed")
        watched = session.pgconn = Watched(session.pgconn)
        first = session.transaction(_steps(), early)
        again = session.transaction(_steps(), early)
    assert watched.prepared_in_transaction == [True] * 5  # the five statements, once each
    assert first.payload[2:] == (3, 2, None) and again.payload[2:] == (5, 2, None)


def _two_writes(session, committed_n):
    """Two writes, the second `final`: at each answer, its row count, whether the session's
    transaction is still open, and ``n`` as another session sees it (what has committed)."""
    from concord.race.steps import Outcome, Status

    seen = []
    first = yield Sql.of(sa.text("UPDATE t SET n = n + 1"), Fetch.ROWCOUNT), {}
    seen.append((first, session.in_transaction(), committed_n()))
    last = yield Sql.of(sa.text("UPDATE t SET n = n + 10"), Fetch.ROWCOUNT, final=True), {}
    seen.append((last, session.in_transaction(), committed_n()))
    return Outcome(Status.DONE, seen)


def test_a_final_steps_answer_reaches_the_operation_once_the_transaction_has_committed(database_url):
    with (
        psycopg.connect(dsn(database_url), autocommit=True) as conn,
        psycopg.connect(dsn(database_url)) as other,
    ):
        conn.execute("CREATE TABLE t (n int)")
        conn.execute("INSERT INTO t VALUES (1)")
        other.autocommit = True
        session = LibpqSession(conn, "read committed")
        outcome = session.transaction(
            _two_writes(session, lambda: other.execute("SELECT n FROM t").fetchone()[0])
        )
    # After the first write the transaction is open and its change unseen; after the final
    # one, COMMIT has already answered: the change is there for everyone.
    assert outcome.payload == [(1, True, 1), (1, False, 12)]


def test_a_step_after_a_final_one_is_refused_and_the_final_write_stands(database_url):
    def too_long():
        yield Sql.of(sa.text("UPDATE t SET n = 5"), Fetch.ROWCOUNT, final=True), {}
        yield Sql.of(sa.text("UPDATE t SET n = 6"), Fetch.ROWCOUNT), {}

    with psycopg.connect(dsn(database_url), autocommit=True) as conn:
        conn.execute("CREATE TABLE t (n int)")
        conn.execute("INSERT INTO t VALUES (1)")
        session = LibpqSession(conn, "read committed")
        with pytest.raises(TypeError, match="a final step must be the operation's last"):
            session.transaction(too_long())
        assert not session.in_transaction()
        assert conn.execute("SELECT n FROM t").fetchone() == (5,)


def test_an_operation_that_breaks_its_promise_after_a_final_step_still_fails_the_attempt(database_url):
    """An operation must not fail after a final step (its transaction has committed); one that
    does anyway is not hidden: the error reaches the caller, with nothing left to roll back."""
    from concord.errors import StaleVersion

    def compare_and_set():
        written = yield Sql.of(sa.text("UPDATE t SET n = 2 WHERE n = 99"), Fetch.ROWCOUNT, final=True), {}
        if written == 0:
            raise StaleVersion("t", 1, 99, None)

    with psycopg.connect(dsn(database_url), autocommit=True) as conn:
        conn.execute("CREATE TABLE t (n int)")
        conn.execute("INSERT INTO t VALUES (1)")
        session = LibpqSession(conn, "read committed")
        with pytest.raises(StaleVersion):
            session.transaction(compare_and_set())
        assert not session.in_transaction()
        assert conn.execute("SELECT n FROM t").fetchone() == (1,)


def test_the_asyncio_worker_also_commits_before_handing_over_a_final_steps_answer(database_url):
    """`LoopRacer` (the asyncio executor's worker) honours `Sql.final` as the blocking session does."""
    import asyncio

    from concord.locking.retry import RetryPolicy
    from concord.race.job import WorkerJob, WorkerReport
    from concord.race.libpq_async import AsyncLibpqSession
    from concord.race.worker_async import LoopRacer

    class OneOperation:  # what the loop needs of a program
        def __init__(self, session, committed_n):
            self.session, self.committed_n = session, committed_n

        def operation(self, worker, seq):
            return _two_writes(self.session, self.committed_n) if seq == 0 else None

    class Coordinator:  # the coordinator's side as the loop sees it: never stopping
        def __init__(self):
            self.progress = [0, 0]

        def stopping(self):
            return False

        def on_stop(self, callback):
            pass

    async def race(other):
        conn = await psycopg.AsyncConnection.connect(dsn(database_url), autocommit=True)
        session = await AsyncLibpqSession.open(conn, "read committed")
        try:
            program = OneOperation(session, lambda: other.execute("SELECT n FROM t").fetchone()[0])
            job = WorkerJob(0, "", "read committed", program, RetryPolicy(max_tries=1), frozenset(), 1, 10, 1)
            report = WorkerReport(0)
            await LoopRacer(job, session, Coordinator(), report).run()
        finally:
            session.close()
            await conn.close()
        return report

    with psycopg.connect(dsn(database_url), autocommit=True) as other:
        other.execute("CREATE TABLE t (n int)")
        other.execute("INSERT INTO t VALUES (1)")
        report = asyncio.run(race(other))
    assert (report.done, report.attempts, report.error) == (1, 1, None)
    assert report.payloads == [[(1, True, 1), (1, False, 12)]]
