"""The race engine end to end on the real server: executors, safe strategies, faults, files."""

from __future__ import annotations

import csv
import gc
import json
import multiprocessing
import os
import re
import signal
import time
from pathlib import Path

import psycopg
import pytest
from test_race_support import dsn, sessions_left, url_text

import concord
from concord.race import Experiment, TooManyWorkers, run_experiment, write_results
from concord.race import cell as race_cell
from concord.race.capacity import ensure_capacity
from concord.race.latency import Latencies

RC, SER = "read committed", "serializable"

# Every combination that must keep its invariant, run twice each against the real server.
SAFE = [
    ("counter", ("pessimistic", "nowait", "optimistic", "advisory"), (RC,)),
    ("counter", ("none",), (SER,)),
    ("assign", ("pessimistic", "nowait", "optimistic", "advisory"), (RC,)),
    ("wip-limit", ("pessimistic", "nowait", "advisory"), (RC,)),
    ("wip-limit", ("none",), (SER,)),
    ("claim-queue", ("pessimistic", "nowait", "skip_locked", "optimistic", "advisory"), (RC,)),
    ("transfer", ("ordered", "nowait", "optimistic"), (RC,)),
]


@pytest.mark.parametrize(
    ("scenario", "strategies", "isolations"), SAFE, ids=[f"{s[0]}-{s[1][0]}" for s in SAFE]
)
def test_safe_combinations_keep_the_invariant_over_repeated_runs(
    database_url, scenario, strategies, isolations
):
    experiment = Experiment(
        scenario=scenario, strategies=strategies, isolations=isolations, workers=(4,), ops=80, max_tries=30
    )
    for run in range(2):
        result = run_experiment(experiment, database_url=url_text(database_url))
        found = [(c.strategy, c.isolation, c.violations, c.worker_errors) for c in result.cells]
        assert found == [(s, i, 0, []) for s in strategies for i in isolations], f"run {run}"


# The asyncio workers chain their statements through event-loop callbacks, retries included:
# the combinations that retry the most (stale versions, NOWAIT, serialization failures, a queue
# that runs dry) on that executor too.
RETRYING = [
    ("counter", ("optimistic", "nowait"), (RC,)),
    ("counter", ("none",), (SER,)),
    ("claim-queue", ("skip_locked", "optimistic"), (RC,)),
    ("transfer", ("ordered",), (RC,)),
]


@pytest.mark.parametrize("loop", ["uvloop", "asyncio"])
@pytest.mark.parametrize(
    ("scenario", "strategies", "isolations"), RETRYING, ids=[f"{s[0]}-{s[1][0]}" for s in RETRYING]
)
def test_asyncio_workers_retry_to_the_exact_number_of_operations_keeping_the_invariant(
    database_url, monkeypatch, loop, scenario, strategies, isolations
):
    monkeypatch.setenv("CONCORD_EVENT_LOOP", loop)
    experiment = Experiment(
        scenario=scenario,
        strategies=strategies,
        isolations=isolations,
        workers=(4,),
        executor="asyncio",
        ops=80,
        max_tries=50,
    )
    result = run_experiment(experiment, database_url=url_text(database_url))
    assert result.parameters["event_loop"].split()[0] == loop
    for cell in result.cells:
        found = (cell.violations, cell.worker_errors, cell.failures, cell.commits)
        assert found == (0, [], 0, 80), cell.strategy
        assert cell.attempts == cell.commits + sum(cell.conflicts.values())
    assert sessions_left(database_url) == 0


@pytest.mark.parametrize("executor", ["threads", "processes", "asyncio"])
def test_each_executor_runs_a_small_cell_to_the_exact_number_of_operations(database_url, executor):
    experiment = Experiment(
        scenario="counter",
        strategies=("pessimistic",),
        isolations=(RC,),
        workers=(3,),
        executor=executor,
        ops=30,
    )
    result = run_experiment(experiment, database_url=url_text(database_url))
    [cell] = result.cells
    assert (cell.executor, cell.commits, cell.attempts, cell.violations) == (executor, 30, 30, 0)
    assert cell.details == {"expected": 30, "actual": 30, "lost_updates": 0}
    assert cell.trace["lines"] == 30
    assert sessions_left(database_url) == 0
    assert multiprocessing.active_children() == []


def test_the_unsafe_counter_under_read_committed_reports_its_lost_updates_as_violations(database_url):
    experiment = Experiment(scenario="counter", strategies=("none",), isolations=(RC,), workers=(4,), ops=200)
    [cell] = run_experiment(experiment, database_url=url_text(database_url)).cells
    lost = cell.details["lost_updates"]
    assert cell.violations == lost == cell.details["expected"] - cell.details["actual"]
    assert cell.verdict == (
        f"lost {lost:,} of 200 updates (counter at {200 - lost:,})"
        if lost
        else "no anomaly: counter at 200 after 200 committed increments"
    )


@pytest.mark.parametrize("executor", ["threads", "processes", "asyncio"])
def test_an_interrupt_stops_the_workers_and_returns_partial_results_with_nothing_left_open(
    database_url, executor
):
    seen = []

    def interrupt(progress) -> None:
        seen.append(progress)
        if progress.commits >= 5:
            raise KeyboardInterrupt

    experiment = Experiment(
        scenario="counter",
        strategies=("pessimistic", "none"),
        isolations=(RC,),
        workers=(4,),
        executor=executor,
        duration_s=30,
    )
    result = run_experiment(experiment, database_url=url_text(database_url), on_progress=interrupt)
    [cell] = result.cells  # the second strategy never started
    assert (result.interrupted, cell.interrupted, cell.violations) == (True, True, 0)
    assert cell.duration_s < 5
    assert cell.commits >= 5
    assert sessions_left(database_url) == 0  # no session, so no open transaction, survives
    assert multiprocessing.active_children() == []


def test_the_coordinators_objects_are_frozen_while_a_cell_races_and_handed_back_after(database_url):
    gc.unfreeze()  # whatever an earlier test left frozen
    objects = len(gc.get_objects())
    frozen_while_racing = []
    experiment = Experiment(
        scenario="counter", strategies=("pessimistic",), isolations=(RC,), workers=(2,), ops=20
    )
    result = run_experiment(
        experiment,
        database_url=url_text(database_url),
        on_running=lambda _: frozen_while_racing.append(gc.get_freeze_count()),
    )
    assert result.cells[0].commits == 20
    # Everything imported and set up before the race is out of the collector's reach during it.
    assert len(frozen_while_racing) == 1 and frozen_while_racing[0] >= objects
    assert gc.get_freeze_count() == 0


def test_a_worker_process_killed_mid_run_is_reported_and_the_invariant_is_still_checked(database_url):
    killed = []

    def kill_first_worker(running) -> None:
        pid = running.pids()[0]
        os.kill(pid, signal.SIGKILL)
        killed.append(pid)

    experiment = Experiment(
        scenario="counter",
        strategies=("pessimistic",),
        isolations=(RC,),
        workers=(3,),
        executor="processes",
        duration_s=1.5,
    )
    result = run_experiment(experiment, database_url=url_text(database_url), on_running=kill_first_worker)
    [cell] = result.cells
    assert len(killed) == 1
    assert cell.dead_workers == [{"worker": 0, "reason": "worker process exited with signal SIGKILL"}]
    assert (result.interrupted, cell.violations, cell.details["lost_updates"]) == (False, 0, 0)
    assert cell.commits > 0
    assert sessions_left(database_url) == 0


def test_more_workers_than_the_server_accepts_are_refused_before_starting(database_url):
    with psycopg.connect(dsn(database_url), autocommit=True) as conn, pytest.raises(TooManyWorkers) as caught:
        ensure_capacity(conn, 100_000)
    assert re.fullmatch(
        r"100,000 workers need 100,003 connections but the server accepts only \d+ more "
        r"\(max_connections = \d+\); use at most \d+ workers",
        caught.value.message,
    )


def test_results_are_written_as_json_csv_markdown_and_bounded_traces(database_url, tmp_path, monkeypatch):
    monkeypatch.setattr(race_cell, "TRACE_LINES_PER_CELL", 20)  # 10 per worker for 2 workers
    before = time.time()
    experiment = Experiment(
        scenario="counter", strategies=("none", "pessimistic"), isolations=(RC,), workers=(2,), ops=40
    )
    result = run_experiment(experiment, database_url=url_text(database_url))
    after = time.time()
    files = write_results(result, tmp_path)
    stamp = result.started_at.replace(":", "").replace("-", "")
    assert files == {
        "json": str(tmp_path / "results" / f"{stamp}-counter.json"),
        "csv": str(tmp_path / "results" / f"{stamp}-counter.csv"),
        "md": str(tmp_path / "results" / f"{stamp}-counter.md"),
        "traces": str(tmp_path / "logs" / f"{stamp}-counter.jsonl"),
    }
    document = json.loads((tmp_path / "results" / f"{stamp}-counter.json").read_text())
    assert list(document)[:6] == [
        "concord_version",
        "started_at",
        "database",
        "parameters",
        "interrupted",
        "cells",
    ]
    with concord.connect(database_url, ensure_schema=False) as handle:  # PG 15 in CI's second run
        assert document["database"]["server_version"] == handle.server_version()
    cell = document["cells"][1]
    for key in (
        "scenario",
        "strategy",
        "isolation",
        "executor",
        "workers",
        "duration_s",
        "attempts",
        "commits",
        "retries",
        "failures",
        "conflicts",
        "violations",
        "invariant",
        "throughput",
        "latency_ms",
    ):
        assert key in cell
    assert (cell["strategy"], cell["commits"], cell["violations"]) == ("pessimistic", 40, 0)
    assert set(cell["latency_ms"]) == {"p50", "p90", "p95", "p99", "p999", "max", "samples", "gave_up"}
    # every operation that ended is a sample: those that committed and those that gave up
    assert cell["latency_ms"]["samples"] == cell["commits"] + cell["failures"]
    assert cell["latency_ms"]["gave_up"] == cell["failures"] == cell["latency_hdr"]["gave_up"]
    assert Latencies.from_document(cell["latency_hdr"]).percentiles_ms() == cell["latency_ms"]
    assert set(cell["conflicts"]) >= {
        "serialization_failure",
        "deadlock",
        "lock_not_available",
        "stale_version",
    }
    assert cell["trace"] == {
        "lines": 20,
        "dropped": 20,
        "cap_per_worker": 10,
        "file": files["traces"],
        "cell": 1,
    }
    rows = list(csv.DictReader(Path(files["csv"]).read_text().splitlines()))
    assert [(r["strategy"], r["commits"]) for r in rows] == [("none", "40"), ("pessimistic", "40")]
    traces = [json.loads(line) for line in Path(files["traces"]).read_text().splitlines()]
    assert len(traces) == 40
    assert set(traces[0]) == {
        "cell",
        "strategy",
        "isolation",
        "workers",
        "worker",
        "op",
        "attempt",
        "start",
        "end",
        "outcome",
        "sqlstate",
    }
    # workers read a monotonic clock; the file has wall-clock times within the run
    assert all(before <= t["start"] <= t["end"] <= after for t in traces)
    assert "| pessimistic | read committed | 2 |" in Path(files["md"]).read_text()


@pytest.mark.parametrize("executor", ["threads", "asyncio"])
def test_workers_whose_sessions_are_killed_are_reported_and_the_invariant_is_still_checked(
    database_url, executor
):
    def terminate_workers(running) -> None:
        with psycopg.connect(dsn(database_url), autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND application_name LIKE 'concord race worker %'"
            )

    experiment = Experiment(
        scenario="counter",
        strategies=("pessimistic",),
        isolations=(RC,),
        workers=(2,),
        executor=executor,
        duration_s=1.0,
    )
    result = run_experiment(experiment, database_url=url_text(database_url), on_running=terminate_workers)
    [cell] = result.cells
    assert sorted(e.split(":")[0] for e in cell.worker_errors) == ["worker 0", "worker 1"]
    # A session killed mid-statement hears 57P01; one killed between statements finds the socket closed.
    for error in cell.worker_errors:
        assert "error (57P01): terminating connection" in error or "server closed the connection" in error, (
            error
        )
    assert (cell.violations, result.error) == (0, None)  # the server itself stayed up


def test_an_experiment_file_path_runs_directly(database_url, tmp_path):
    spec = tmp_path / "assign.toml"
    spec.write_text('scenario = "assign"\nstrategies = ["pessimistic"]\nworkers = [2]\nops = 10\n')
    result = run_experiment(spec, database_url=url_text(database_url))
    assert [(c.scenario, c.strategy, c.commits, c.violations) for c in result.cells] == [
        ("assign", "pessimistic", 10, 0)
    ]


def test_losing_every_session_mid_run_ends_the_run_with_a_clear_error_and_partial_results(database_url):
    def server_goes_away(running) -> None:  # as far as the engine can tell: all its sessions die
        with psycopg.connect(dsn(database_url), autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND application_name LIKE 'concord race %'"
            )

    experiment = Experiment(
        scenario="counter", strategies=("pessimistic", "none"), isolations=(RC,), workers=(2,), duration_s=1.0
    )
    result = run_experiment(experiment, database_url=url_text(database_url), on_running=server_goes_away)
    [cell] = result.cells  # the second cell never started
    assert result.error.startswith("the database went away during cell 1: worker ")
    assert cell.violations == 0  # checked afterwards on a new connection


def test_verdicts_say_in_plain_words_what_happened_and_what_it_cost():
    from concord.race.results import verdict

    costs = {"serialization_failure": 1204, "deadlock": 1, "lock_not_available": 0}
    assert (
        verdict(0, "counter at 10", costs, retries=1205, failures=0)
        == "no anomaly; 1,204 serialization failures, 1 deadlock: 1,205 retried"
    )
    # The give-ups are named as such, not counted as retries (the table's "retries" and "gave up").
    assert (
        verdict(0, "counter at 10", {"serialization_failure": 5304}, retries=5075, failures=229)
        == "no anomaly; 5,304 serialization failures: 5,075 retried, 229 gave up after max tries"
    )
    assert (
        verdict(0, "counter at 10", {"stale_version": 0}, retries=0, failures=2)
        == "no anomaly; 2 gave up after max tries"
    )
    assert verdict(0, "counter at 10", {}, retries=0, failures=0) == "no anomaly: counter at 10"
    assert (
        verdict(312, "lost 312 of 5,000 updates", costs, retries=1205, failures=0)
        == "lost 312 of 5,000 updates"
    )
    assert (
        verdict(None, "could not read the database", {}, retries=0, failures=0)
        == "invariant not checked: could not read the database"
    )
