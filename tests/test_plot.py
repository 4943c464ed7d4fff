"""`concord plot`: the four-panel figure (inspected as a matplotlib figure), the terminal chart,
and the one-line refusals."""

from __future__ import annotations

import sys

import pytest
from cli_runner import run
from rich.console import Console
from test_results_support import a_sweep, document, race_cell, write

from concord.plot import draw, save_figure, series_of, terminal_chart
from concord.plot.terminal import marker_letters


def labelled_lines(ax) -> list:
    """The lines drawn for series (an error bar's data line carries its container's label)."""
    for container in ax.containers:
        container.lines[0].set_label(container.get_label())
    return [line for line in ax.get_lines() if not line.get_label().startswith("_")]


def panels(fig) -> dict[str, list]:
    """The figure's axes by row: throughput, latency, conflicts, violations."""
    columns = len(fig.axes) // 4
    rows = ("throughput", "latency", "conflicts", "violations")
    return {name: fig.axes[n * columns : (n + 1) * columns] for n, name in enumerate(rows)}


def test_the_figure_has_a_row_per_measure_and_a_column_per_isolation_with_a_line_per_strategy():
    fig = draw(a_sweep())
    rows = panels(fig)
    assert len(fig.axes) == 8  # 4 measures x 2 isolation levels
    assert [ax.get_title() for ax in rows["throughput"]] == ["read committed", "serializable"]
    for row in rows.values():
        for ax in row:
            assert [line.get_label() for line in labelled_lines(ax)] == ["none", "pessimistic"]
    assert len(rows["latency"][0].get_lines()) == 4  # p99 and a faint p50 per strategy
    assert [row[0].get_ylabel().splitlines()[0] for row in rows.values()] == [
        "throughput: commits per second",
        "latency per operation, ms (log)",
        "conflicts per commit",
        "violations: invariant broken",
    ]
    assert "(median of 3 runs, bars: min-max)" in rows["throughput"][0].get_ylabel()
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["none", "pessimistic"]


def test_a_strategy_has_the_same_colour_and_marker_in_every_panel():
    fig = draw(a_sweep())
    looks: dict[str, set] = {}
    for ax in fig.axes:
        for line in labelled_lines(ax):
            looks.setdefault(line.get_label(), set()).add((line.get_color(), line.get_marker()))
    assert all(len(found) == 1 for found in looks.values())
    assert len({next(iter(found)) for found in looks.values()}) == 2


def test_the_panels_of_a_row_share_a_y_axis_that_holds_every_panels_values():
    fig = draw(a_sweep())
    read_committed, serializable = panels(fig)["throughput"]
    assert read_committed.get_shared_y_axes().joined(read_committed, serializable)
    assert read_committed.get_ylim()[0] == 0
    # none at read committed reaches 1,610 at 16 workers: the shared axis shows it in both panels.
    assert serializable.get_ylim()[1] >= 1610


def test_the_throughput_error_bars_span_the_runs():
    fig = draw(a_sweep())
    [first] = [c for c in fig.axes[0].containers if c.get_label() == "none"]
    _line, _caps, (bars,) = first.lines
    spans = [(round(seg[0][1], 6), round(seg[1][1], 6)) for seg in bars.get_segments()]
    assert spans == [(90.0, 110.0), (390.0, 410.0), (1590.0, 1610.0)]


def test_a_plain_race_document_is_drawn_with_one_run_per_point():
    race = document(
        [race_cell("none", "read committed", 1, 50.0), race_cell("none", "read committed", 8, 80.0)]
    )
    fig = draw(race)
    assert len(fig.axes) == 4
    assert fig.axes[0].get_title() == "read committed"
    assert "(one run per point)" in fig.axes[0].get_ylabel()
    [line] = labelled_lines(fig.axes[0])
    assert list(line.get_ydata()) == [50.0, 80.0]


def test_series_are_ordered_by_workers_whatever_the_order_of_the_cells():
    race = document(
        [race_cell("none", "read committed", 8, 80.0), race_cell("none", "read committed", 1, 50.0)]
    )
    [series] = series_of(race)
    assert (series.workers, series.throughput) == ([1, 8], [50.0, 80.0])


@pytest.mark.parametrize(("suffix", "magic"), [(".png", b"\x89PNG"), (".svg", b"<?xml")])
def test_the_figure_is_written_as_png_or_svg(tmp_path, suffix, magic):
    path = save_figure(a_sweep(), tmp_path / f"chart{suffix}")
    assert path.read_bytes().startswith(magic)


def test_the_terminal_chart_has_a_panel_per_isolation_level_on_one_scale_with_a_letter_per_strategy():
    console = Console(width=80, record=True, color_system=None)
    console.print(terminal_chart(a_sweep(), width=80))
    lines = console.export_text().splitlines()
    assert lines[0] == "throughput (commits/s) against workers: counter, median of 3 runs"
    assert [n for n, line in enumerate(lines) if line in ("read committed", "serializable")] == [1, 13]
    read_committed, serializable = lines[2:11], lines[14:23]
    for panel in (read_committed, serializable):
        assert panel[0].startswith("   2,000 │")  # the same scale: 1,600 rounded up to a nice ceiling
        assert panel[-1].startswith("       0 │")
    assert lines[12].split() == lines[24].split() == ["1", "4", "16"]
    assert lines[-1].split() == ["n", "■", "none", "p", "■", "pessimistic"]
    # At 16 workers (the last column), 9 rows from 0 to 2,000: none reaches 1,600 at read committed
    # (row 2) and 1,120 at serializable (row 4), pessimistic 800 and 480 (rows 5 and 6).
    ends = [[row.rstrip()[-1] for row in panel] for panel in (read_committed, serializable)]
    assert [n for n, end in enumerate(ends[0]) if end in "np"] == [2, 5]
    assert [ends[0][2], ends[0][5]] == ["n", "p"]
    assert [n for n, end in enumerate(ends[1]) if end in "np"] == [4, 6]
    assert [ends[1][4], ends[1][6]] == ["n", "p"]


def test_strategies_get_distinct_marker_letters():
    assert marker_letters(["none", "nowait", "pessimistic", "optimistic"]) == {
        "none": "n",
        "nowait": "o",
        "pessimistic": "p",
        "optimistic": "t",
    }


def test_the_command_draws_the_terminal_chart_without_output_option(tmp_path):
    path = write(tmp_path / "sweep.json", a_sweep())
    outcome = run("plot", str(path))
    assert outcome.exit_code == 0, outcome.stderr
    assert outcome.stdout.startswith("throughput (commits/s) against workers: counter")


def test_the_command_writes_the_chart_file(tmp_path):
    path = write(tmp_path / "sweep.json", a_sweep())
    outcome = run("plot", str(path), "-o", str(tmp_path / "chart.png"))
    assert (outcome.exit_code, outcome.stdout, outcome.stderr) == (
        0,
        f"chart: {tmp_path / 'chart.png'}\n",
        "",
    )
    assert (tmp_path / "chart.png").read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "is not JSON (line 1: Expecting property name enclosed in double quotes)"),
        ("[1, 2]", "is not a concord result: the JSON is not an object"),
        ('{"parameters": {}}', "is not a concord result: it has no list of 'cells'"),
        (
            '{"parameters": {}, "cells": [{"strategy": "none"}]}',
            "is not a concord result: cell 1 lacks isolation, workers, throughput, latency_ms",
        ),
    ],
)
def test_a_file_that_is_not_a_result_is_refused_in_one_line(tmp_path, content, message):
    path = write(tmp_path / "bad.json", content)
    outcome = run("plot", str(path))
    assert (outcome.exit_code, outcome.stdout, outcome.stderr) == (1, "", f"concord: {path} {message}\n")


def test_a_missing_result_is_refused_in_one_line(tmp_path):
    outcome = run("plot", "nothing-here.json", "--out", str(tmp_path))
    assert (outcome.exit_code, outcome.stderr) == (
        1,
        f"concord: no result nothing-here.json: not a file, nor a name in {tmp_path / 'results'} "
        "(`concord results list` shows them)\n",
    )


def test_an_unknown_chart_format_is_a_usage_error(tmp_path):
    path = write(tmp_path / "sweep.json", a_sweep())
    outcome = run("plot", str(path), "-o", str(tmp_path / "chart.pdf"))
    assert (outcome.exit_code, outcome.stderr) == (
        2,
        "concord: cannot write a chart as .pdf: use .png or .svg\n",
    )


def test_without_matplotlib_the_command_says_which_extra_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)  # makes the import fail
    path = write(tmp_path / "sweep.json", a_sweep())
    outcome = run("plot", str(path), "-o", str(tmp_path / "chart.png"))
    assert (outcome.exit_code, outcome.stderr) == (
        1,
        "concord: charts need matplotlib: pip install 'concord[plot]'\n",
    )
