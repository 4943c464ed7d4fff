"""`concord sweep`: the schedule, the aggregation of repeated runs, and a tiny sweep on a real database."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from dataclasses import replace

import psycopg
import pytest
from cli_runner import on, run
from test_race_support import dsn, url_text

from concord.errors import InvalidInput
from concord.race import CellResult, Experiment
from concord.sweeps import Sweep, aggregate_cell, median, run_sweep, spread, write_sweep


def a_run(throughput: float, p99: float, *, violations: int | None = 0, conflicts: int = 0) -> CellResult:
    return CellResult(
        scenario="counter",
        strategy="none",
        isolation="read committed",
        executor="threads",
        workers=4,
        duration_s=1.0,
        attempts=100 + conflicts,
        commits=100,
        retries=conflicts,
        failures=0,
        conflicts={"serialization_failure": conflicts, "deadlock": 0},
        violations=violations,
        invariant="final points == committed increments",
        throughput=throughput,
        latency_ms={"p50": p99 / 10, "p95": p99 / 2, "p99": p99, "max": p99 * 2},
        verdict="",
        finding=f"lost {violations} updates" if violations else "counter checked",
        operations={},
    )


def test_the_schedule_runs_the_matrix_in_rounds_every_other_one_reversed():
    sweep = Sweep(Experiment(strategies=("none", "pessimistic"), workers=(1, 4)), repeats=3).validated()
    order = [(repeat, cell.strategy, cell.workers) for repeat, cell in sweep.schedule()]
    forward = [("none", 1), ("none", 4), ("pessimistic", 1), ("pessimistic", 4)]
    assert order == [
        *((0, s, w) for s, w in forward),
        *((1, s, w) for s, w in reversed(forward)),
        *((2, s, w) for s, w in forward),
    ]


@pytest.mark.parametrize("repeats", [0, -1])
def test_fewer_than_one_repeat_is_refused(repeats):
    with pytest.raises(InvalidInput, match=f"repeats must be at least 1, not {repeats}"):
        Sweep(Experiment(), repeats=repeats).validated()


def test_median_and_spread_skip_unknown_values():
    assert median([3.0, 1.0, 2.0, None]) == 2.0
    assert median([None]) is None
    assert spread([5.0, None, 1.0]) == {"values": [5.0, None, 1.0], "median": 3.0, "min": 1.0, "max": 5.0}


def test_a_cell_is_the_median_of_its_runs_with_their_range_and_the_counts_summed():
    cell = aggregate_cell(
        [a_run(300.0, 30.0, violations=5), a_run(100.0, 10.0), a_run(200.0, 50.0, violations=2, conflicts=4)]
    )
    assert (cell["throughput"], cell["latency_ms"]["p99"], cell["latency_ms"]["max"]) == (200.0, 30.0, 100.0)
    assert cell["spread"]["throughput"] == {
        "values": [300.0, 100.0, 200.0],
        "median": 200.0,
        "min": 100.0,
        "max": 300.0,
    }
    assert cell["spread"]["p99_ms"] == {
        "values": [30.0, 10.0, 50.0],
        "median": 30.0,
        "min": 10.0,
        "max": 50.0,
    }
    assert (cell["repeats"], cell["commits"], cell["retries"], cell["violations"]) == (3, 300, 4, 7)
    assert cell["conflicts"]["serialization_failure"] == 4
    assert cell["verdict"] == "lost 5 updates (worst of 3 runs; 2 broke it)"
    assert [run["throughput"] for run in cell["runs"]] == [300.0, 100.0, 200.0]


def test_an_unchecked_run_makes_the_cells_violations_unknown():
    cell = aggregate_cell([a_run(100.0, 10.0), a_run(100.0, 10.0, violations=None)])
    assert cell["violations"] is None
    assert cell["verdict"].startswith("invariant not checked")


def test_a_tiny_sweep_writes_one_document_of_medians_and_spreads(database_url, tmp_path):
    sweep = Sweep(
        Experiment(scenario="counter", strategies=("none", "pessimistic"), workers=(1, 2), ops=20), repeats=2
    )
    result = run_sweep(sweep, database_url=url_text(database_url))
    files = write_sweep(result, tmp_path)

    assert sorted(p.name for p in (tmp_path / "results").iterdir()) == sorted(
        f"{result.started_at.replace(':', '').replace('-', '')}-sweep-counter.{ext}"
        for ext in ("json", "csv", "md")
    )
    doc = json.loads((tmp_path / "results" / files["json"].split("/")[-1]).read_text())
    assert (doc["kind"], doc["interrupted"], doc["parameters"]["repeats"]) == ("sweep", False, 2)
    assert [(c["strategy"], c["workers"], c["repeats"]) for c in doc["cells"]] == [
        ("none", 1, 2),
        ("none", 2, 2),
        ("pessimistic", 1, 2),
        ("pessimistic", 2, 2),
    ]
    for cell in doc["cells"]:
        runs = [run["throughput"] for run in cell["runs"]]
        assert cell["throughput"] == round((runs[0] + runs[1]) / 2, 3)
        assert cell["spread"]["throughput"] == {
            "values": runs,
            "median": cell["throughput"],
            "min": min(runs),
            "max": max(runs),
        }
        assert cell["commits"] == sum(run["commits"] for run in cell["runs"]) == 40
        assert cell["violations"] == sum(run["violations"] for run in cell["runs"])
    assert doc["database"]["server_version"]


def test_an_interrupt_between_runs_keeps_the_runs_that_completed(database_url):
    def interrupt_second_run(progress):
        if progress.run == 2 and progress.race is None:
            raise KeyboardInterrupt

    sweep = Sweep(
        Experiment(scenario="counter", strategies=("pessimistic",), workers=(1, 2), ops=10), repeats=2
    )
    result = run_sweep(sweep, database_url=url_text(database_url), on_progress=interrupt_second_run)
    doc = result.document()
    assert doc["interrupted"] is True
    assert [(c["workers"], c["repeats"], c["commits"]) for c in doc["cells"]] == [(1, 1, 10)]


def test_the_command_writes_the_document_and_prints_it_with_json(database_url, tmp_path):
    outcome = on(
        database_url,
        "sweep",
        "--strategy",
        "pessimistic",
        "--workers",
        "1,2",
        "--repeats",
        "2",
        "--ops",
        "10",
        "--out",
        str(tmp_path),
        "--json",
    )
    assert outcome.exit_code == 0, outcome.stderr
    doc = outcome.json()
    assert [(c["workers"], c["repeats"]) for c in doc["cells"]] == [(1, 2), (2, 2)]
    assert doc["files"]["json"] == str(next((tmp_path / "results").glob("*-sweep-counter.json")))
    assert outcome.stderr.splitlines()[0] == "2 cells x 2 repeats = 4 runs"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--repeats", "0"], "repeats must be at least 1, not 0"),
        (["--workers", "0"], "workers must be at least 1, not 0"),
        (
            ["--strategy", "magic"],
            "unknown locking strategy 'magic': choose one of none, pessimistic, ordered, "
            "nowait, skip_locked, optimistic, advisory",
        ),
    ],
)
def test_bad_input_is_refused_with_one_line_and_exit_code_2(args, message):
    outcome = run("sweep", *args)
    assert (outcome.exit_code, outcome.stdout, outcome.stderr) == (2, "", f"concord: {message}\n")


# The command as a user runs it, from whichever environment runs the tests.
CONCORD = [sys.executable, "-m", "concord"]


def _sessions(database_url) -> int:
    with psycopg.connect(dsn(database_url), autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchone()
    return int(row[0])


def test_ctrl_c_exits_130_and_writes_the_partial_document(database_url, tmp_path):
    command = [
        *CONCORD, "sweep", "--database-url", url_text(database_url), "--strategy", "pessimistic",
        "--workers", "2", "--repeats", "2", "--duration", "60", "--json", "--out", str(tmp_path),
    ]  # fmt: skip
    out, err = tmp_path / "stdout", tmp_path / "stderr"
    with out.open("w") as stdout, err.open("w") as stderr:
        process = subprocess.Popen(command, stdout=stdout, stderr=stderr, text=True)
        try:
            deadline = time.monotonic() + 60
            while _sessions(database_url) < 3 and time.monotonic() < deadline:  # 2 workers + control
                time.sleep(0.05)
            process.send_signal(signal.SIGINT)
            process.wait(timeout=15)
        finally:
            process.kill()
    assert process.returncode == 130
    assert err.read_text().splitlines() == [
        "1 cell x 2 repeats = 2 runs of 60 s: at least 2 min",
        "run 1/2: pessimistic · RC · 2 workers · repeat 1",
        "concord: partial results written",
        "concord: interrupted",  # the error policy's line for exit code 130, the only one saying so
    ]
    document = json.loads(out.read_text())
    assert (document["kind"], document["interrupted"], document["cells"]) == ("sweep", True, [])
    [written] = (tmp_path / "results").glob("*-sweep-counter.json")
    assert json.loads(written.read_text())["interrupted"] is True


def test_more_workers_than_the_server_accepts_are_refused_before_any_run(database_url, tmp_path):
    outcome = on(database_url, "sweep", "--workers", "1,5000", "--ops", "10", "--out", str(tmp_path))
    assert outcome.exit_code == 2
    assert outcome.stderr.splitlines()[-1].startswith("concord: 5,000 workers need 5,003 connections")
    assert not (tmp_path / "results").exists()


def test_the_log_says_what_is_certain_up_front_and_the_time_left_from_the_runs_done(database_url, tmp_path):
    outcome = on(
        database_url, "sweep", "--strategy", "pessimistic", "--workers", "1", "--repeats", "3",
        "--duration", "1", "--out", str(tmp_path),
    )  # fmt: skip
    assert outcome.exit_code == 0, outcome.stderr
    first, *runs = outcome.stderr.splitlines()
    assert first == "1 cell x 3 repeats = 3 runs of 1 s: at least 3 s"
    assert runs[0] == "run 1/3: pessimistic · RC · 1 worker · repeat 1"  # nothing measured yet
    assert re.fullmatch(r"run 2/3: pessimistic · RC · 1 worker · repeat 2 \(about \d+ s left\)", runs[1])


def test_a_cell_shows_the_median_run_length_and_a_verdict_that_keeps_retries_and_give_ups_apart():
    runs = [
        replace(a_run(100.0, 10.0, conflicts=30), duration_s=0.4, retries=25, failures=5),
        replace(a_run(100.0, 10.0, conflicts=10), duration_s=0.6, retries=10),
        replace(a_run(100.0, 10.0), duration_s=0.5),
    ]
    cell = aggregate_cell(runs)
    assert (cell["duration_s"], cell["spread"]["duration_s"]["values"]) == (0.5, [0.4, 0.6, 0.5])
    assert (cell["retries"], cell["failures"]) == (35, 5)
    assert cell["verdict"] == "no anomaly; 40 serialization failures: 35 retried, 5 gave up after max tries"
