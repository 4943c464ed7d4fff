"""The step runner on a live server: lock waits told apart by the server, timeouts, cleanup.

Scripts here are written for the runner, not taken from the catalogue, so each test forces exactly
one situation: a row lock held by another session, a statement that is merely slow, a lock that
the script never releases.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from conftest import libpq

from concord.anomalies import Level, Verdict, run_suite
from concord.anomalies.catalogue import single_antidependency
from concord.anomalies.monitor import Monitor
from concord.anomalies.runner import CellRun, run_cell
from concord.anomalies.script import TWO_ROWS, AnomalyTest, Finding, begin, commit, sql
from concord.anomalies.transcript import Outcome


def _nothing_to_check(transcript) -> Finding:
    return Finding(False, "runner test: nothing to check")


def script(variant: str, *steps) -> AnomalyTest:
    return AnomalyTest(
        "RUNNER",
        variant,
        "Runner test",
        "A script for the runner's tests.",
        TWO_ROWS,
        tuple(steps),
        _nothing_to_check,
    )


ROW_LOCK = script(
    "row lock",
    begin("T1"),
    sql("T1", "UPDATE test SET value = 11 WHERE id = 1"),
    begin("T2"),
    sql("T2", "UPDATE test SET value = 12 WHERE id = 1", "T2 waits for T1"),
    commit("T1"),
    commit("T2"),
)

NEVER_RELEASED = script(
    "never released",
    begin("T1"),
    sql("T1", "UPDATE test SET value = 11 WHERE id = 1"),
    begin("T2"),
    sql("T2", "UPDATE test SET value = 12 WHERE id = 1", "T2 waits for T1"),
    commit("T2"),
    commit("T1"),
)

DEADLOCK = script(
    "deadlock",
    begin("T1"),
    begin("T2"),
    sql("T1", "UPDATE test SET value = 11 WHERE id = 1"),
    sql("T2", "UPDATE test SET value = 22 WHERE id = 2"),
    sql("T1", "UPDATE test SET value = 21 WHERE id = 2", "T1 waits for T2"),
    sql("T2", "UPDATE test SET value = 12 WHERE id = 1", "T2 closes the cycle"),
    commit("T1"),
    commit("T2"),
)

SLOW = script("slow", sql("T1", "SELECT pg_sleep(0.3)", "T1 sleeps"))
ENDLESS = script("endless", sql("T1", "SELECT pg_sleep(60)", "T1 sleeps"))


class Lab:
    """A schema of this test's own on the test server, and the runner's monitor connection."""

    def __init__(self, dsn: str, schema: str, conn: psycopg.Connection) -> None:
        self.dsn, self.schema, self.conn = dsn, schema, conn

    def run(self, test: AnomalyTest, *, step_timeout: float = 5.0) -> CellRun:
        return run_cell(
            test,
            Level.READ_COMMITTED,
            dsn=self.dsn,
            schema=self.schema,
            monitor=Monitor(self.conn),
            step_timeout=step_timeout,
        )

    def sessions_left(self) -> int:
        """Backends of this lab's sessions still connected, waiting (bounded) for closed ones to exit."""
        deadline = time.monotonic() + 5
        while True:
            (count,) = self.conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE %s",
                (f"concord anomalies {self.schema} %",),
            ).fetchone()
            if count == 0 or time.monotonic() > deadline:
                return count
            time.sleep(0.02)


@pytest.fixture
def lab(server_url) -> Iterator[Lab]:
    schema = f"concord_anomalies_test_{uuid.uuid4().hex[:8]}"
    dsn = libpq(server_url)
    with psycopg.connect(dsn, autocommit=True) as conn:
        yield Lab(dsn, schema, conn)
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def test_a_step_waiting_on_a_row_lock_is_blocked_and_released_by_the_holders_commit(lab):
    run = lab.run(ROW_LOCK)
    waiter = run.transcript.step("T2 waits for T1")
    assert run.error is None
    assert (waiter.blocked, waiter.blocked_by, waiter.released_by) == (True, ["T1"], 5)
    assert (waiter.outcome, waiter.command) == (Outcome.OK, "UPDATE 1")
    assert [r.index for r in run.transcript.records if r.blocked] == [4]


def test_a_deadlock_fails_one_waiter_with_40p01_and_lets_the_other_finish(lab):
    run = lab.run(DEADLOCK)
    waits = [run.transcript.step("T1 waits for T2"), run.transcript.step("T2 closes the cycle")]
    assert run.error is None
    assert all(step.blocked for step in waits)
    [victim] = [step for step in waits if step.outcome is Outcome.FAILED]
    [survivor] = [step for step in waits if step is not victim]
    assert (victim.sqlstate, victim.note, victim.released_by) == (
        "40P01",
        "chosen as the deadlock victim by the server",
        None,
    )
    # The victim's abort released the other waiter: that step is the one recorded as releasing it.
    assert (survivor.outcome, survivor.released_by) == (Outcome.OK, victim.index)


def test_a_slow_statement_is_running_not_blocked(lab):
    run = lab.run(SLOW, step_timeout=5.0)
    sleeper = run.transcript.step("T1 sleeps")
    assert run.error is None
    assert (sleeper.outcome, sleeper.blocked) == (Outcome.OK, False)


def test_a_statement_that_neither_finishes_nor_waits_on_a_lock_times_out_and_is_cancelled(lab):
    started = time.monotonic()
    run = lab.run(ENDLESS, step_timeout=0.3)
    assert run.error == "step 1 (T1: SELECT pg_sleep(60)) neither finished nor waited on a lock within 0.3s"
    assert run.transcript.step("T1 sleeps").outcome is Outcome.UNFINISHED
    assert time.monotonic() - started < 10
    assert lab.sessions_left() == 0


def test_a_step_stuck_on_a_lock_the_script_never_releases_is_an_error_with_every_session_rolled_back(lab):
    run = lab.run(NEVER_RELEASED, step_timeout=0.5)
    assert run.error == (
        "step 4 (T2: UPDATE test SET value = 12 WHERE id = 1) still waited on a lock held by T1 "
        "after 0.5s, needed by step 5"
    )
    waiter = run.transcript.step("T2 waits for T1")
    assert (waiter.blocked, waiter.outcome) == (True, Outcome.UNFINISHED)
    assert lab.sessions_left() == 0
    # T1's update was rolled back and its row lock released: the row is free and unchanged.
    with lab.conn.transaction():
        lab.conn.execute("SET LOCAL lock_timeout = '1s'")
        row = lab.conn.execute(f'SELECT value FROM "{lab.schema}".test WHERE id = 1 FOR UPDATE').fetchone()
    assert row == (10,)


def test_the_suite_goes_on_after_a_stuck_cell_and_drops_its_schema(server_url):
    result = run_suite(
        server_url.render_as_string(hide_password=False),
        isolations=["read committed"],
        step_timeout=0.5,
        catalogue=[NEVER_RELEASED, single_antidependency.P4],
    )
    assert [(cell.anomaly, cell.verdict) for cell in result.cells] == [
        ("RUNNER", Verdict.ERROR),
        ("P4", Verdict.POSSIBLE),
    ]
    with psycopg.connect(libpq(server_url)) as conn:
        left = conn.execute(
            "SELECT count(*) FROM pg_namespace WHERE nspname = %s", (result.database["schema"],)
        ).fetchone()
    assert left == (0,)


def _board_snapshot(conn: psycopg.Connection) -> tuple[list, list]:
    tables = conn.execute(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2"
    ).fetchall()
    schemas = conn.execute(
        "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'concord_anomalies%'"
    ).fetchall()
    return tables, schemas


def test_the_suite_leaves_a_board_database_exactly_as_it_found_it(database_url):
    with psycopg.connect(libpq(database_url), autocommit=True) as conn:
        before = _board_snapshot(conn)
        result = run_suite(database_url.render_as_string(hide_password=False), only=["G0", "G2-item"])
        after = _board_snapshot(conn)
    assert {cell.verdict for cell in result.cells} == {Verdict.PREVENTED, Verdict.POSSIBLE}
    assert after == before
    assert before[1] == []
