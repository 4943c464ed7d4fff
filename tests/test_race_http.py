"""Races through the HTTP shim (`concord race --via`), against a live uvicorn on the test's database."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx2
import pytest
from serve_process import serving

from concord.errors import ConcordError, InvalidInput
from concord.race import Experiment, TooManyWorkers, write_results
from concord.race.http import run_http_experiment
from concord.services.boards import list_boards


def race(url: str, scenario: str, strategy: str, workers: int = 8, ops: int = 160):
    experiment = Experiment(scenario=scenario, strategies=(strategy,), workers=(workers,), ops=ops)
    [cell] = run_http_experiment(experiment, url).cells
    return cell


@pytest.mark.parametrize("strategy", ["pessimistic", "nowait", "optimistic", "advisory"])
def test_assign_through_http_with_a_safe_strategy_has_one_winner_per_task(live_url, strategy):
    cell = race(live_url, "assign", strategy)
    assert cell.violations == 0
    assert cell.executor == "http"
    assert cell.details["tasks_raced"] == 20  # 160 operations / 8 workers
    assert cell.commits == 20
    assert cell.http_status["200"] == 20
    assert cell.operations["declined"] + cell.failures == 140


def test_counter_through_http_with_optimistic_keeps_every_increment(live_url):
    cell = race(live_url, "counter", "optimistic", workers=4, ops=40)
    assert cell.violations == 0
    assert cell.details["final_points"] == cell.commits == cell.details["committed_increments"]
    assert cell.commits + cell.failures == 40


def test_counter_through_http_with_if_match_star_counts_lost_updates_exactly(live_url):
    cell = race(live_url, "counter", "none", workers=4, ops=40)
    assert cell.commits == 40
    assert cell.violations == 40 - cell.details["final_points"]
    assert cell.http_status == {"200": 80}  # a GET and a PATCH per increment


def test_every_attempt_through_http_is_traced_to_the_logs_file(live_url, tmp_path):
    experiment = Experiment(scenario="counter", strategies=("optimistic",), workers=(4,), ops=40)
    result = run_http_experiment(experiment, live_url)
    files = write_results(result, tmp_path)
    lines = [json.loads(line) for line in Path(files["traces"]).read_text().splitlines()]
    [cell] = result.cells
    assert len(lines) == cell.attempts == cell.trace["lines"]
    assert sum(line["outcome"] == "committed" for line in lines) == cell.commits
    assert sum(line["outcome"] == "stale_version" for line in lines) == cell.conflicts["stale_version"]
    assert {(line["worker"], line["cell"]) for line in lines} == {(w, 0) for w in range(4)}


def test_the_result_document_has_the_direct_race_shape_plus_http_status(live_url):
    experiment = Experiment(scenario="assign", strategies=("pessimistic",), workers=(4,), ops=8)
    document = run_http_experiment(experiment, live_url).document()
    assert {"concord_version", "started_at", "database", "parameters", "interrupted", "cells"} <= set(
        document
    )
    assert document["database"]["via"] == live_url
    [cell] = document["cells"]
    direct_keys = {
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
    }
    assert direct_keys <= set(cell)
    assert set(cell["http_status"]) <= {"200", "409"}


@pytest.mark.parametrize(
    ("scenario", "strategy", "isolation", "message"),
    [
        ("counter", "pessimistic", "read committed", "counter through HTTP takes none or optimistic"),
        ("wip-limit", "none", "read committed", "--via races the assign and counter scenarios"),
        ("assign", "pessimistic", "serializable", "isolation level is the API's own"),
    ],
)
def test_what_cannot_run_through_http_is_refused_with_the_reason(scenario, strategy, isolation, message):
    experiment = Experiment(scenario=scenario, strategies=(strategy,), isolations=(isolation,), ops=4)
    with pytest.raises(InvalidInput, match=message):
        run_http_experiment(experiment, "http://127.0.0.1:1")


def test_an_api_that_is_not_running_is_one_clear_error():
    experiment = Experiment(scenario="assign", strategies=("pessimistic",), ops=4)
    with pytest.raises(ConcordError, match=r"cannot reach the API at http://127\.0\.0\.1:1"):
        run_http_experiment(experiment, "http://127.0.0.1:1")


def test_concord_race_via_prints_the_document_with_http_status(live_url, tmp_path):
    from cli_runner import run

    outcome = run(
        "race",
        "--via",
        live_url,
        "--scenario",
        "counter",
        "--workers",
        "2",
        "--ops",
        "10",
        "--json",
        "--out",
        str(tmp_path),
    )
    assert outcome.exit_code == 0, outcome.stderr
    document = outcome.json()
    assert [c["strategy"] for c in document["cells"]] == ["none", "optimistic"]
    assert all(c["executor"] == "http" and "http_status" in c for c in document["cells"])
    assert list((tmp_path / "results").glob("*-counter.json"))


def test_concord_race_via_refuses_a_strategy_http_cannot_run_with_exit_2(tmp_path):
    from cli_runner import run

    outcome = run(
        "race",
        "--via",
        "http://127.0.0.1:1",
        "--scenario",
        "counter",
        "--strategy",
        "pessimistic",
        "--out",
        str(tmp_path),
    )
    assert outcome.exit_code == 2
    assert outcome.stderr.strip().splitlines() == [
        "concord: counter through HTTP takes none or optimistic, not pessimistic: a row lock cannot outlive "
        "the request that took it"
    ]


def test_a_race_via_refuses_more_workers_than_the_api_serves_at_once_before_making_anything(live_url, db):
    # live_url serves the test's `db`: a pool of 5 + 10 connections, so 15 requests at once.
    experiment = Experiment(scenario="assign", strategies=("pessimistic",), workers=(4, 16), ops=32)
    with pytest.raises(TooManyWorkers) as refused:
        run_http_experiment(experiment, live_url)
    assert refused.value.message == (
        f"16 workers need 16 requests at once but the API at {live_url} serves 15 at once "
        "(40 threads, 5+10 pooled connections); use at most 15 workers"
    )
    assert db.transact(list_boards) == []


def test_concord_race_via_with_more_workers_than_the_api_serves_is_one_line_and_exit_2(live_url, tmp_path):
    from cli_runner import run

    outcome = run("race", "--via", live_url, "--workers", "5000", "--ops", "5000", "--out", str(tmp_path))
    assert outcome.exit_code == 2
    assert outcome.stderr.strip().splitlines() == [
        f"concord: 5000 workers need 5000 requests at once but the API at {live_url} serves 15 at once "
        "(40 threads, 5+10 pooled connections); use at most 15 workers"
    ]
    assert not (tmp_path / "results").exists()


def test_ctrl_c_stops_a_race_via_a_real_concord_serve_within_two_seconds(database_url, tmp_path):
    with serving(database_url, tmp_path / "serve.log") as base:
        health = httpx2.get(f"{base}/health").json()
        workers = health["capacity"]["concurrent_requests"]  # 40: the most it will accept
        command = [sys.executable, "-m", "concord", "race", "--via", base, "--scenario", "assign"]
        command += ["--strategy", "pessimistic", "--workers", str(workers), "--duration", "60"]
        command += ["--json", "--out", str(tmp_path)]
        out, err = tmp_path / "stdout", tmp_path / "stderr"
        with out.open("w") as stdout, err.open("w") as stderr, (tmp_path / "serve.log").open() as log:
            process = subprocess.Popen(command, stdout=stdout, stderr=stderr)
            try:
                # The workers are racing once the server has answered assigns from all of them.
                _wait_for_lines(log, "/assign?strategy=pessimistic HTTP/1.1", workers, process)
                process.send_signal(signal.SIGINT)
                sent = time.monotonic()
                process.wait(timeout=30)
                took = time.monotonic() - sent
            finally:
                process.kill()
    assert process.returncode == 130
    assert err.read_text().splitlines()[-2:] == ["concord: partial results written", "concord: interrupted"]
    assert took < 2.0
    assert json.loads(out.read_text())["interrupted"] is True


def _wait_for_lines(log, needle: str, count: int, process) -> None:
    deadline = time.monotonic() + 120
    seen = 0
    while seen < count:
        assert process.poll() is None and time.monotonic() < deadline, "the race never got going"
        line = log.readline()
        if not line:
            time.sleep(0.01)  # waiting for the server to write, not lining anything up
        seen += needle in line


def test_a_race_via_without_the_api_extra_says_how_to_install_it_with_exit_2(monkeypatch, tmp_path):
    from cli_runner import run

    monkeypatch.setitem(sys.modules, "httpx2", None)  # what `pip install .` without [api] leaves
    outcome = run("race", "--via", "http://127.0.0.1:1", "--ops", "4", "--out", str(tmp_path))
    assert outcome.exit_code == 2
    assert outcome.stderr.strip().splitlines() == [
        "concord: racing through HTTP needs the api extra: pip install 'concord[api]'"
    ]
    assert not (tmp_path / "results").exists()


def test_an_answer_the_race_cannot_read_stops_that_worker_and_the_report_says_why():
    import asyncio
    from collections import Counter

    from concord.locking import RetryPolicy
    from concord.race.http import HTTP_RETRIES, _Clock, _worker
    from concord.race.job import WorkerReport
    from concord.race.loop import Ledger

    class Unreadable:
        def operation(self, worker, seq):
            async def attempt(statuses):
                statuses["200"] += 1
                raise ValueError("Expecting value: line 1 column 1 (char 0)")  # what .json() raises

            return attempt

    report = WorkerReport(0)
    ledger = Ledger(
        report, seed=1, policy=RetryPolicy(), retry_on=HTTP_RETRIES, trace_cap=10,
        progress=[0, 0], stopping=lambda: False,
    )  # fmt: skip

    async def run() -> Counter:
        statuses: Counter = Counter()
        await _worker(Unreadable(), 5, ledger, statuses, asyncio.Barrier(1), _Clock(None))
        return statuses

    statuses = asyncio.run(run())
    assert statuses == {"200": 1} and (report.attempts, report.done) == (1, 0)
    assert report.error == "worker 0: error: Expecting value: line 1 column 1 (char 0)"
