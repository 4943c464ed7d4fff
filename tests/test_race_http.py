"""Races through the HTTP shim (`concord race --via`), against a live uvicorn on the test's database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from concord.errors import ConcordError, InvalidInput
from concord.race import Experiment, write_results
from concord.race.http import run_http_experiment


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
