"""`concord results list | show | compare`: finding results, comparing cells against the spread."""

from __future__ import annotations

import json
import os

import pytest
from cli_runner import run
from test_results_support import a_sweep, document, race_cell, sweep_cell, write

from concord.reports.compare import BEYOND, UNKNOWN, WITHIN, compare, spread_note
from concord.reports.store import ResultUnreadable, find_result, list_results


def test_runs_that_overlap_are_within_spread_and_runs_apart_are_beyond():
    a = document(
        [sweep_cell("none", "read committed", 4, [90.0, 100.0, 110.0], [5.0, 6.0, 7.0])], kind="sweep"
    )
    b = document(
        [sweep_cell("none", "read committed", 4, [105.0, 120.0, 130.0], [9.0, 10.0, 11.0])], kind="sweep"
    )
    [cell] = compare(a, b).cells
    assert (cell.throughput.a, cell.throughput.b, cell.throughput.change_pct, cell.throughput.note) == (
        100.0,
        120.0,
        20.0,
        WITHIN,
    )
    assert (cell.p99_ms.a, cell.p99_ms.b, cell.p99_ms.change_pct, cell.p99_ms.note) == (
        6.0,
        10.0,
        66.7,
        BEYOND,
    )


def test_single_runs_on_both_sides_leave_the_spread_unknown():
    a = document([race_cell("none", "read committed", 4, 100.0)])
    b = document([race_cell("none", "read committed", 4, 150.0)])
    [cell] = compare(a, b).cells
    assert (cell.throughput.change_pct, cell.throughput.note) == (50.0, UNKNOWN)


@pytest.mark.parametrize(("single", "note"), [(105.0, WITHIN), (130.0, BEYOND)])
def test_a_single_run_is_compared_with_the_range_of_the_other_side(single, note):
    assert spread_note(100.0, single, (90.0, 110.0), None) == note


def test_cells_present_on_one_side_only_are_listed_and_parameter_differences_named():
    a = document([race_cell("none", "read committed", 1, 10.0), race_cell("none", "read committed", 4, 10.0)])
    b = document(
        [race_cell("none", "read committed", 4, 10.0), race_cell("pessimistic", "serializable", 4, 9.0)]
    )
    b["parameters"]["executor"] = "processes"
    a["parameters"]["event_loop"] = "uvloop 0.23.0"  # recorded by asyncio runs only
    b["database"]["settings"]["fsync"] = "off"
    result = compare(a, b)
    assert [(c.strategy, c.workers) for c in result.cells] == [("none", 4)]
    assert result.only_in_a == [("counter", "none", "read committed", 1)]
    assert result.only_in_b == [("counter", "pessimistic", "serializable", 4)]
    assert result.differences == [
        "executor: threads vs processes",
        "event_loop: uvloop 0.23.0 vs not set",
        "fsync: on vs off",
    ]


def test_the_compare_command_prints_both_sides_the_change_and_the_note(tmp_path):
    a = write(tmp_path / "results" / "a.json", a_sweep())
    slower = a_sweep()
    cell = slower["cells"][0]  # none, read committed, 1 worker: runs 90, 100, 110
    cell["throughput"], cell["spread"]["throughput"] = (
        50.0,
        {"values": [45.0, 50.0, 55.0], "median": 50.0, "min": 45.0, "max": 55.0},
    )
    write(tmp_path / "results" / "b.json", slower)
    outcome = run("results", "compare", "a", "b.json", "--out", str(tmp_path))
    assert outcome.exit_code == 0, outcome.stderr
    rows = [line.split() for line in outcome.stdout.splitlines()]
    assert [
        "none",
        "RC",
        "1",
        "100",
        "50",
        "-50.0%",
        "3.0",
        "3.0",
        "+0.0%",
        "0",
        "→",
        "0",
        "throughput",
        "beyond,",
        "p99",
        "within",
    ] in rows
    assert [
        "none",
        "RC",
        "4",
        "400",
        "400",
        "+0.0%",
        "6.0",
        "6.0",
        "+0.0%",
        "0",
        "→",
        "0",
        "within",
        "spread",
    ] in rows
    assert f"A = {a}" in outcome.stdout


def test_cells_on_one_side_only_are_listed_a_strategy_and_ladder_per_line(tmp_path):
    a = write(tmp_path / "a.json", a_sweep())
    b = write(tmp_path / "b.json", document([race_cell("none", "read committed", 1, 100.0)]))
    outcome = run("results", "compare", str(a), str(b))
    assert outcome.exit_code == 0, outcome.stderr
    assert [line for line in outcome.stdout.splitlines() if line.startswith(("only in", "differs"))] == [
        "only in A: counter, none (read committed) at 4, 16 workers",
        "only in A: counter, none (serializable) at 1, 4, 16 workers",
        "only in A: counter, pessimistic (read committed, serializable) at 1, 4, 16 workers",
        "differs: repeats: 3 vs 1",
    ]


def test_the_compare_command_prints_json(tmp_path):
    a = write(tmp_path / "a.json", a_sweep())
    outcome = run("results", "compare", str(a), str(a), "--json")
    doc = outcome.json()
    assert (outcome.exit_code, len(doc["cells"]), doc["only_in_a"], doc["differences"]) == (0, 12, [], [])
    assert doc["cells"][0]["throughput"] == {"a": 100.0, "b": 100.0, "change_pct": 0.0, "note": WITHIN}


def test_list_shows_every_result_oldest_first_and_skips_other_json(tmp_path):
    write(tmp_path / "results" / "new.json", {**a_sweep(), "started_at": "2026-11-22T04:00:00Z"})
    write(
        tmp_path / "results" / "examples" / "old.json",
        document([race_cell("none", "read committed", 1, 5.0)]),
    )
    write(tmp_path / "results" / "notes.json", {"hello": "world"})
    assert [(r.path.name, r.kind, r.cells) for r in list_results(tmp_path)] == [
        ("old.json", "race", 1),
        ("new.json", "sweep", 12),
    ]
    outcome = run("results", "list", "--out", str(tmp_path))
    assert outcome.exit_code == 0
    rows = [line.split() for line in outcome.stdout.splitlines()]
    assert ["examples/old.json", "race", "counter", "2026-11-22T03:00:00Z", "1"] in rows
    assert ["new.json", "sweep", "counter", "2026-11-22T04:00:00Z", "12"] in rows


def test_list_says_so_when_there_is_nothing(tmp_path):
    outcome = run("results", "list", "--out", str(tmp_path))
    assert (outcome.exit_code, outcome.stdout) == (0, f"no results under {tmp_path / 'results'}\n")


def test_a_result_is_found_by_path_by_name_or_by_a_unique_prefix(tmp_path):
    path = write(tmp_path / "results" / "20261122T030000Z-sweep-counter.json", a_sweep())
    write(tmp_path / "results" / "20261122T040000Z-counter.json", a_sweep())
    assert find_result(path) == path
    assert find_result("20261122T030000Z-sweep-counter", tmp_path) == path
    assert find_result("20261122T03", tmp_path) == path
    with pytest.raises(ResultUnreadable, match="20261122 names more than one result"):
        find_result("20261122", tmp_path)


def test_show_prints_a_race_document_as_the_race_table(tmp_path):
    path = write(
        tmp_path / "race.json", document([race_cell("none", "read committed", 4, 123.0, violations=7)])
    )
    outcome = run("results", "show", str(path))
    assert outcome.exit_code == 0, outcome.stderr
    assert "concord race: counter (threads, up to 1 s per cell)" in outcome.stdout
    row = ["1", "none", "RC", "4", "1.0", "123", "100", "0", "0", "1.0", "10.0", "7", "lost", "7", "updates"]
    assert row in [line.split() for line in outcome.stdout.splitlines()]


def test_show_prints_a_sweep_with_the_range_of_its_runs(tmp_path):
    path = write(tmp_path / "sweep.json", a_sweep())
    outcome = run("results", "show", str(path))
    assert outcome.exit_code == 0, outcome.stderr
    assert "concord sweep: counter (threads, up to 1 s per cell, 3 runs per cell)" in outcome.stdout
    assert [
        "none",
        "RC",
        "4",
        "1.0",
        "400",
        "(390-410)",
        "6.0",
        "(5.0-7.0)",
        "0",
        "0",
        "0",
        "no",
        "anomaly",
    ] in [line.split() for line in outcome.stdout.splitlines()]


def test_show_with_json_prints_the_document_unchanged(tmp_path):
    path = write(tmp_path / "sweep.json", a_sweep())
    outcome = run("results", "show", str(path), "--json")
    assert outcome.json() == json.loads(path.read_text())


@pytest.mark.parametrize("command", [["show"], ["compare", "x.json"]])
def test_a_garbled_file_is_one_line_and_exit_code_1(tmp_path, command):
    bad = write(tmp_path / "bad.json", '{"cells": ')
    args = [*command, str(bad)] if command == ["show"] else ["compare", str(bad), "x.json"]
    outcome = run("results", *args)
    assert (outcome.exit_code, outcome.stdout) == (1, "")
    assert outcome.stderr == f"concord: {bad} is not JSON (line 1: Expecting value)\n"


def test_on_80_columns_compare_keeps_the_changes_and_shortens_the_headers(tmp_path):
    a = write(tmp_path / "a.json", a_sweep())
    outcome = run("results", "compare", str(a), str(a), env={"COLUMNS": "80"})
    lines = outcome.stdout.splitlines()
    assert max(len(line.rstrip()) for line in lines) <= 80
    assert [
        "strategy",
        "iso",
        "workers",
        "thr",
        "A",
        "thr",
        "B",
        "thr",
        "Δ",
        "p99",
        "Δ",
        "viol.",
        "spread",
    ] in [line.split() for line in lines]
    assert ["none", "RC", "1", "100", "100", "+0.0%", "+0.0%", "0→0", "within"] in [
        line.split() for line in lines
    ]


def test_on_80_columns_no_figure_or_file_name_is_cut(tmp_path):
    a = document([race_cell("none", "read committed", 4, 1_912_345.0, p99=1_234.5)])
    b = document([race_cell("none", "read committed", 4, 4_100_512.0, p99=2_648.9)])
    compared = run(
        "results", "compare", str(write(tmp_path / "a.json", a)), str(write(tmp_path / "b.json", b))
    )
    long_name = "20261204T213045Z-sweep-counter-with-a-long-experiment-name.json"
    write(tmp_path / "results" / long_name, a_sweep())
    listed = run("results", "list", "--out", str(tmp_path), env={"COLUMNS": "80"})
    for outcome in (compared, listed):
        assert outcome.exit_code == 0, outcome.stderr
        assert "…" not in outcome.stdout
    assert "1,912,345" in compared.stdout and "+114.4%" in compared.stdout
    assert any(long_name in line for line in listed.stdout.splitlines())  # whole, on one line


def test_piped_output_is_as_wide_as_its_table(tmp_path):
    import subprocess
    import sys

    long_name = "20261204T213045Z-sweep-counter-with-a-long-experiment-name.json"
    write(tmp_path / "results" / long_name, a_sweep())
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    piped = subprocess.run(
        [sys.executable, "-m", "concord", "results", "list", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    [row] = [line for line in piped.stdout.splitlines() if long_name in line]
    assert row.split()[:5] == [long_name, "sweep", "counter", "2026-11-22T03:00:00Z", "12"]
