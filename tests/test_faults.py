"""Faults the race engine must survive without distorting its result.

The interleavings are forced: a blocker session holds the counter row so every worker is inside
its transaction (BEGIN sent, SELECT ... FOR UPDATE waiting) at a moment the test chooses; waits
poll the server for a state, they never sleep to line things up.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import psycopg
import pytest
import sqlalchemy as sa
from test_race_support import dsn, sessions_left, url_text

from concord.db.engine import create_engine
from concord.locking import RetryPolicy, get_strategy
from concord.race import Experiment, run_experiment
from concord.race.executors import Death
from concord.race.executors.processes import ProcessExecutor
from concord.race.libpq_async import AsyncLibpqSession
from concord.race.results import CellTotals
from concord.race.scenarios.counter.scenario import Counter
from concord.race.worker import WorkerJob, retry_kinds

RC = "read committed"


def wait_for(predicate, timeout: float = 20.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def backend_of(conn: psycopg.Connection, worker: int):
    """(pid, state, wait_event_type, in a transaction) of a worker's session, or None."""
    return conn.execute(
        "SELECT pid, state, wait_event_type, xact_start IS NOT NULL FROM pg_stat_activity "
        "WHERE application_name = %s AND datname = current_database()",
        (f"concord race worker {worker}",),
    ).fetchone()


def test_a_worker_killed_inside_its_transaction_is_reported_rolled_back_and_the_invariant_holds(
    database_url,
):
    seen: dict[str, object] = {}

    def kill_worker_zero_while_it_waits_for_the_row(running) -> None:
        with (
            psycopg.connect(dsn(database_url), autocommit=True) as watcher,
            psycopg.connect(dsn(database_url)) as blocker,
        ):
            # The blocker takes the counter row: every worker ends up inside its transaction,
            # waiting on the row lock.
            blocker.execute("SELECT id FROM tasks FOR UPDATE")
            pid, state, wait, in_xact = wait_for(
                lambda: (row := backend_of(watcher, 0)) and row[2] == "Lock" and row,
                what="worker 0 waiting on the row lock",
            )
            seen["before"] = (state, wait, in_xact)
            seen["backend"] = pid
            os.kill(running.pids()[0], signal.SIGKILL)
            running.processes[0].join(timeout=10)
            # What it committed before it died (its live counter; its report never comes).
            seen["dead_commits"] = running.progress_array[0]
            blocker.rollback()  # the dead backend gets the row, fails to answer, and rolls back
            seen["gone"] = wait_for(
                lambda: watcher.execute(
                    "SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = %s", (pid,)
                ).fetchone()[0],
                what="the killed worker's backend to end",
            )

    experiment = Experiment(
        scenario="counter",
        strategies=("pessimistic",),
        isolations=(RC,),
        workers=(3,),
        executor="processes",
        duration_s=1.0,
    )
    result = run_experiment(
        experiment,
        database_url=url_text(database_url),
        on_running=kill_worker_zero_while_it_waits_for_the_row,
    )
    [cell] = result.cells
    assert seen["before"] == ("active", "Lock", True)  # killed mid-transaction
    assert seen["gone"] is True
    assert cell.dead_workers == [{"worker": 0, "reason": "worker process exited with signal SIGKILL"}]
    # The counter holds the survivors' reported commits plus what worker 0 committed before it
    # died, exactly: the increment it was in the middle of rolled back.
    dead_commits = seen["dead_commits"]
    assert cell.details["expected"] == cell.commits
    assert cell.details["actual"] == cell.commits + dead_commits
    assert cell.details.get("unreported_increments", 0) == dead_commits
    assert (result.interrupted, cell.violations, result.error) == (False, 0, None)
    assert sessions_left(database_url) == 0  # nothing idle in transaction (or at all) remains
    assert multiprocessing.active_children() == []


def test_a_worker_killed_at_the_start_line_holds_up_neither_the_start_nor_the_others(database_url):
    # Killed while waiting for the start signal: with a lock shared between processes (an
    # mp.Event, an mp.Queue) the dead child could hold it forever; the start and the reports
    # must not depend on one.
    engine = create_engine(database_url, poolclass=sa.NullPool)
    with engine.begin() as conn:
        fixture = Counter().setup(conn, 3, 30)
    program = Counter().program(get_strategy("pessimistic"), fixture)
    jobs = [
        WorkerJob(w, dsn(database_url), RC, program, RetryPolicy(), retry_kinds(frozenset()), 10, 10, w)
        for w in range(3)
    ]
    cell = ProcessExecutor().start(jobs)
    try:
        assert sorted(cell.wait_ready(30)) == [0, 1, 2]
        os.kill(cell.pids()[0], signal.SIGKILL)
        cell.processes[0].join(timeout=10)
        cell.go()
        assert wait_for(cell.finished, what="the two survivors to finish their ten increments")
        reports, deaths = cell.collect(5)
    finally:
        cell.stop()
        cell.kill_stragglers()
    assert [(r.worker, r.done, r.error) for r in reports] == [(1, 10, None), (2, 10, None)]
    assert deaths == [Death(0, "worker process exited with signal SIGKILL")]
    with engine.begin() as conn:
        assert Counter().check(conn, fixture, CellTotals(done=20)).violations == 0
    engine.dispose()


@pytest.fixture
def throwaway_server():
    from concord.db.embedded import EmbeddedServer

    # Not under pytest's tmp_path: pytest prunes old numbered temp roots, and a second pytest
    # session on the machine could remove this one's while the server still runs in it.
    home = Path(tempfile.mkdtemp(prefix="concord-restart-test-"))
    server = EmbeddedServer(home / "pg18")
    url = server.ensure_running()
    try:
        yield server, url
    finally:
        server.stop()
        shutil.rmtree(home, ignore_errors=True)


@pytest.mark.parametrize("executor", ["threads", "asyncio"])
def test_a_server_restarted_mid_run_ends_the_run_cleanly_with_partial_results_and_no_double_count(
    throwaway_server, executor
):
    server, url = throwaway_server
    restarted = []

    def restart_once_workers_have_committed(running) -> None:
        wait_for(lambda: running.progress()[0] >= 20, what="some commits before the restart")
        server.stop()
        server.ensure_running()
        restarted.append(True)

    experiment = Experiment(
        scenario="counter",
        strategies=("pessimistic", "none"),
        isolations=(RC,),
        workers=(4,),
        executor=executor,
        duration_s=30,
    )
    started = time.monotonic()
    result = run_experiment(experiment, database_url=url, on_running=restart_once_workers_have_committed)
    assert restarted == [True]
    assert time.monotonic() - started < 20  # it ended; it did not wait out the 30 s
    [cell] = result.cells  # the second strategy never ran
    assert result.error and result.error.startswith("the database went away during cell 1: worker ")
    assert len(cell.worker_errors) == 4
    actual, expected = cell.details["actual"], cell.details["expected"]
    # Every reported commit is in the table once; at most one COMMIT per worker may have reached
    # the server without its answer reaching the worker (counted as unreported, never as done).
    assert expected == cell.commits >= 20
    assert expected <= actual <= expected + 4
    assert cell.violations == 0


# The command as a user runs it, from whichever environment runs the tests.
CONCORD = [sys.executable, "-m", "concord"]


def _waiting_on_a_lock(conn: psycopg.Connection, apps: str) -> int:
    return conn.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND wait_event_type = 'Lock' AND application_name LIKE %s",
        (apps,),
    ).fetchone()[0]


def _hold_the_board_table(blocker: psycopg.Connection, watcher: psycopg.Connection) -> None:
    """Phase 'setup': the cell's fixture insert waits behind a table lock."""
    blocker.execute("LOCK TABLE boards IN ACCESS EXCLUSIVE MODE")


def _hold_the_counter_row(blocker: psycopg.Connection, watcher: psycopg.Connection) -> None:
    """Phase 'lock wait': every worker is inside its transaction, waiting for the row."""
    wait_for(lambda: watcher.execute("SELECT count(*) FROM tasks").fetchone()[0], what="the fixture")
    blocker.execute("SELECT id FROM tasks FOR UPDATE")
    wait_for(lambda: _waiting_on_a_lock(watcher, "concord race worker %") == 4, what="4 workers waiting")


PHASES = {"setup": _hold_the_board_table, "lock-wait": _hold_the_counter_row}


@pytest.mark.parametrize("executor", ["threads", "asyncio"])
@pytest.mark.parametrize("phase", sorted(PHASES))
def test_ctrl_c_while_blocked_on_the_server_exits_130_within_two_seconds_leaving_nothing(
    database_url, tmp_path, phase, executor
):
    command = [
        *CONCORD, "race", "--database-url", url_text(database_url), "--scenario", "counter",
        "--strategy", "pessimistic", "--workers", "4", "--executor", executor, "--duration", "60",
        "--json", "--out", str(tmp_path),
    ]  # fmt: skip
    out, err = tmp_path / "stdout", tmp_path / "stderr"
    with (
        psycopg.connect(dsn(database_url), autocommit=True) as watcher,
        psycopg.connect(dsn(database_url)) as blocker,
        out.open("w") as stdout,
        err.open("w") as stderr,
    ):
        if phase == "setup":
            PHASES[phase](blocker, watcher)
        process = subprocess.Popen(command, stdout=stdout, stderr=stderr, text=True)
        try:
            if phase == "setup":
                wait_for(
                    lambda: _waiting_on_a_lock(watcher, "%") or process.poll() is not None,
                    timeout=60,
                    what="concord's setup to wait",
                )
                assert process.poll() is None, err.read_text()
            else:
                PHASES[phase](blocker, watcher)
            # Everything concord started (workers, a fork server, a resource tracker), to check
            # after its exit; children of this test process belong to other tests.
            spawned = psutil.Process(process.pid).children(recursive=True)
            process.send_signal(signal.SIGINT)
            sent = time.monotonic()
            if phase == "lock-wait":
                # The workers' lock waits are cancelled while the row is still held; only then
                # is it released (the cell's teardown deletes that row and would wait for it).
                wait_for(lambda: not _waiting_on_a_lock(watcher, "concord race worker %"), what="cancel")
                blocker.rollback()
            process.wait(timeout=10)
            took = time.monotonic() - sent
        finally:
            process.kill()
            blocker.rollback()
    assert (process.returncode, took < 2.0) == (130, True), err.read_text()
    document = json.loads(out.read_text())
    assert document["interrupted"] is True
    if phase == "lock-wait":
        [cell] = document["cells"]
        assert (cell["interrupted"], cell["violations"]) == (True, 0)
    assert sessions_left(database_url) == 0  # no worker session, so nothing idle in transaction
    alive = [p for p in spawned if _alive(p)]
    assert alive == []  # no worker process, fork server or resource tracker left behind


@pytest.mark.parametrize("executor", ["threads", "asyncio"])
@pytest.mark.parametrize("timeout", ["lock_timeout", "statement_timeout"])
def test_a_row_held_past_the_race_timeout_is_counted_as_that_timeout_and_retried(
    database_url, timeout, executor
):
    held = {}

    def hold_the_row_until_every_worker_timed_out_twice(running) -> None:
        with psycopg.connect(dsn(database_url)) as blocker:
            blocker.execute("SELECT id FROM tasks FOR UPDATE")
            wait_for(lambda: running.progress()[1] >= 8, what="8 timeouts")
            held["done"] = True

    experiment = Experiment(
        scenario="counter",
        strategies=("pessimistic",),
        isolations=(RC,),
        workers=(4,),
        executor=executor,
        duration_s=0.5,
        max_tries=1000,
        **{timeout: "20ms"},
    )
    result = run_experiment(
        experiment,
        database_url=url_text(database_url),
        on_running=hold_the_row_until_every_worker_timed_out_twice,
    )
    [cell] = result.cells
    assert held == {"done": True}
    assert cell.conflicts[timeout] >= 8
    assert {k: v for k, v in cell.conflicts.items() if v and k != timeout} == {}
    assert (cell.violations, cell.failures, cell.worker_errors) == (0, 0, [])
    assert result.parameters[timeout] == "20ms"
    assert sessions_left(database_url) == 0


def test_timeouts_come_from_the_command_line_or_the_experiment_file_and_bad_ones_are_refused(tmp_path):
    from concord.cli.race import build_plan
    from concord.errors import InvalidInput

    given = dict.fromkeys(("scenario", "strategy", "isolation", "workers", "executor", "duration", "ops"))
    plan = build_plan(None, **given, max_tries=None, lock_timeout="50ms", statement_timeout="1s").experiment
    assert plan.session_settings() == (("lock_timeout", "50ms"), ("statement_timeout", "1s"))
    path = tmp_path / "x.toml"
    path.write_text('scenario = "counter"\nlock_timeout = 250\nstatement_timeout = "2 min"\n')
    plan = build_plan(path, **given, max_tries=None).experiment
    assert (plan.lock_timeout, plan.statement_timeout) == ("250ms", "2min")
    assert Experiment().validated().session_settings() == ()
    with pytest.raises(
        InvalidInput, match=r"lock_timeout must be a positive duration such as 50ms or 1s, not 'soon'"
    ):
        build_plan(None, **given, max_tries=None, lock_timeout="soon")


def _alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_an_async_session_hears_its_backend_terminated_from_one_reader_call(database_url):
    """libuv (uvloop's loop) stops watching a socket once it reports an error, after at most one
    more call of its reader; before the fix a worker whose backend was terminated then read the
    FATAL error in that call, waited for the rest of the reply and was never called again. Here
    the reader is taken off the loop (no further calls) and called once, with the FATAL error and
    the end of the connection both waiting in the socket: that one call must deliver the error."""

    async def main() -> list[BaseException | None]:
        conn = await psycopg.AsyncConnection.connect(dsn(database_url), autocommit=True)
        session = await AsyncLibpqSession.open(conn, RC)
        delivered: list[BaseException | None] = []
        try:
            session.loop.remove_reader(session.fd)
            session.send_command(b"SELECT pg_sleep(60)", lambda r, e: delivered.append(session.failure(r, e)))
            with psycopg.connect(dsn(database_url), autocommit=True) as admin:
                pid = conn.info.backend_pid
                wait_for(
                    lambda: admin.execute(
                        "SELECT 1 FROM pg_stat_activity WHERE pid = %s AND wait_event = 'PgSleep'", (pid,)
                    ).fetchone(),
                    what="the backend to be sleeping",
                )
                admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
            watch = select.poll()
            watch.register(session.fd, select.POLLRDHUP)
            wait_for(lambda: watch.poll(0), what="the server to close the connection")
            session._readable()
        finally:
            session.close()
            await conn.close()
        return delivered

    assert [type(error) for error in asyncio.run(main())] == [psycopg.errors.AdminShutdown]
