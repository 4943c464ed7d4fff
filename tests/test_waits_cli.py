"""Where the time went, as a user sees it: the race table's column, ``--waits`` on race and
``results show``, ``--no-waits``, the report page and the chart's stacked bars."""

from __future__ import annotations

import json

from cli_runner import on, run
from test_results_support import document, race_cell, write

from concord.plot import draw
from concord.reports.page import markdown
from concord.reports.report import build_page

WAITS = {
    "samples": 300,
    "interval_ms": 20.0,
    "mean_interval_ms": 20.0,
    "workers_sampled": 8,
    "profile": {"Lock:transactionid": 0.71, "CPU": 0.19, "Client:ClientRead": 0.1},
    "groups": {"lock": 0.71, "cpu": 0.19, "client": 0.1},
    "blocking": [{"waiter": 3, "holder": 5, "samples": 41}],
    "max_waiters": 7,
    "longest_chain": 2,
    "longest_wait_ms": {"ms": 120.0, "event": "Lock:transactionid", "worker": 3},
    "hottest_holder": {"worker": 5, "pid": 42, "samples": 41},
}
SERVER = {
    "database": "concord",
    "deadlocks": 0,
    "xact_commit": 102,
    "reconciliation": [
        {"counter": "deadlocks", "server": 0, "clients": 0, "match": True},
        {"counter": "xact_commit", "server": 102, "clients": 100, "match": False, "note": "other sessions"},
    ],
    "mismatches": ["xact_commit: server 102, clients 100 (other sessions)"],
}


def a_race_with_waits() -> dict:
    cell = race_cell("pessimistic", "read committed", 8, 500.0) | {"waits": WAITS, "server": SERVER}
    return document([cell, race_cell("none", "read committed", 8, 900.0)])


def test_the_race_table_says_where_the_time_went_and_waits_prints_the_whole_profile(database_url, tmp_path):
    args = ["race", "--scenario", "counter", "--strategy", "pessimistic", "--workers", "4", "--ops", "200"]
    outcome = on(database_url, *args, "--out", str(tmp_path), "--waits")
    assert outcome.exit_code == 0, outcome.stderr
    assert "where the time went" in outcome.stdout.splitlines()[2]
    assert "1. pessimistic, RC, 4 workers: where the time went" in outcome.stdout
    assert "server (pg_stat_database): deadlocks 0 = clients' 0" in outcome.stdout
    assert "samples of 4 workers, every 20 ms" in outcome.stdout
    [saved] = (tmp_path / "results").glob("*.json")
    cell = json.loads(saved.read_text())["cells"][0]
    assert set(cell["waits"]) >= {
        "profile",
        "blocking",
        "samples",
        "interval_ms",
        "max_waiters",
        "longest_wait_ms",
    }
    assert set(cell["server"]) >= {"deadlocks", "xact_commit", "xact_rollback", "conflicts", "reconciliation"}
    shown = run("results", "show", str(saved), "--waits")
    assert shown.exit_code == 0
    assert "1. pessimistic, RC, 4 workers: where the time went" in shown.stdout
    assert "## Where the time went" in saved.with_suffix(".md").read_text()


def test_no_waits_runs_without_sampling_and_says_so_in_the_document(database_url, tmp_path):
    args = ["race", "--strategy", "none", "--workers", "2", "--ops", "10", "--out", str(tmp_path)]
    outcome = on(database_url, *args, "--no-waits", "--json")
    assert outcome.exit_code == 0, outcome.stderr
    found = outcome.json()
    assert found["parameters"]["waits"] is False
    assert (found["cells"][0]["waits"], found["cells"][0]["server"]) == (None, None)


def test_asking_for_waits_and_no_waits_together_is_refused_in_one_line():
    outcome = run("race", "--waits", "--no-waits")
    assert (outcome.exit_code, outcome.stdout) == (2, "")
    assert (
        outcome.stderr
        == "concord: --waits prints the wait samples that --no-waits turns off: give one of them\n"
    )


def test_an_experiment_file_whose_waits_is_not_a_boolean_is_refused(tmp_path):
    path = tmp_path / "x.toml"
    path.write_text('scenario = "counter"\nwaits = "yes"\n')
    outcome = run("race", "--experiment", str(path))
    assert (outcome.exit_code, outcome.stderr) == (2, "concord: waits must be true or false, not 'yes'\n")


def test_a_mismatch_between_the_server_and_the_clients_is_shown_under_the_table(tmp_path):
    path = write(tmp_path / "race.json", a_race_with_waits())
    outcome = run("results", "show", str(path))
    assert outcome.exit_code == 0
    assert "Lock:transactionid 71%" in outcome.stdout
    assert (
        "1. pessimistic, RC, 8 workers: server counter ≠ clients': xact_commit: server 102, clients 100"
        in (outcome.stdout.replace("\n", " "))
    )
    detailed = run("results", "show", str(path), "--waits")
    assert "  worker 3 waited for worker 5 in 41 samples" in detailed.stdout
    assert "2. none, RC, 8 workers: where the time went\nno wait samples" in detailed.stdout


def test_the_report_page_carries_each_cells_profile_and_the_chart_a_stacked_bar_per_cell():
    doc = a_race_with_waits()
    page = markdown(build_page(doc, charts=False))
    assert "## Where the time went" in page
    assert (
        "| pessimistic | read committed | 8 | Lock:transactionid 71%, CPU 19%, Client:ClientRead 10% | 71% |"
        in page
    )
    fig = draw(doc)
    bars = fig.axes[-1]
    assert bars.get_title() == "where the time went"
    assert [t.get_text() for t in bars.get_yticklabels()] == ["pessimistic · RC · 8w"]
    widths = {c.get_label(): round(float(c.patches[0].get_width()), 6) for c in bars.containers}
    assert widths == {"Lock:transactionid": 0.71, "CPU": 0.19, "Client:ClientRead": 0.1}


def test_waits_on_a_result_that_is_no_race_is_refused_in_one_line(tmp_path):
    path = write(tmp_path / "calibrate.json", {"kind": "calibrate", "rows": [], "parameters": {}})
    outcome = run("results", "show", str(path), "--waits")
    assert (outcome.exit_code, outcome.stdout) == (2, "")
    assert outcome.stderr == (
        f"concord: --waits shows the wait profiles of race and sweep results, not of {path}\n"
    )
