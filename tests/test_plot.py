"""`concord plot`: the four-panel figure (inspected as a matplotlib figure), the terminal chart,
and the one-line refusals."""

from __future__ import annotations

import sys

import pytest
from cli_runner import run
from rich.console import Console
from test_results_support import a_sweep, document, race_cell, write

from concord.plot import draw, save_figure, series_of, terminal_chart


def labelled_lines(ax) -> list:
    """The lines drawn for series (an error bar's data line carries its container's label)."""
    for container in ax.containers:
        container.lines[0].set_label(container.get_label())
    return [line for line in ax.get_lines() if not line.get_label().startswith("_")]


def test_the_figure_has_four_titled_panels_with_one_line_per_strategy_and_isolation():
    fig = draw(a_sweep())
    throughput, latency, per_commit, violations = fig.axes[:4]
    assert [ax.get_title() for ax in fig.axes[:4]] == [
        "Throughput (median of 3 runs, bars: min-max)",
        "Latency per operation: p99 (bold) and p50 (faint)",
        "Conflicts per commit (each one retried, or the operation gave up)",
        "Violations: the invariant broken, summed over 3 runs",
    ]
    expected = ["none · RC", "none · SER", "pessimistic · RC", "pessimistic · SER"]
    for ax in (throughput, latency, per_commit, violations):
        assert [line.get_label() for line in labelled_lines(ax)] == expected
    assert len(latency.get_lines()) == 8  # p99 and a faint p50 per series
    assert [ax.get_ylabel() for ax in fig.axes[:2]] == ["commits per second", "milliseconds (log scale)"]
    assert [t.get_text() for t in fig.legends[0].get_texts()] == expected


def test_lines_differ_in_colour_and_in_marker_or_line_style():
    lines = labelled_lines(draw(a_sweep()).axes[0])
    looks = [(line.get_color(), line.get_marker(), line.get_linestyle()) for line in lines]
    assert len(set(looks)) == 4
    assert len({colour for colour, _, _ in looks}) == 2  # one colour per strategy
    assert len({(marker, style) for _, marker, style in looks}) == 2  # one marker and style per isolation


def test_the_throughput_error_bars_span_the_runs():
    fig = draw(a_sweep())
    [first] = [c for c in fig.axes[0].containers if c.get_label() == "none · RC"]
    _line, _caps, (bars,) = first.lines
    spans = [(round(seg[0][1], 6), round(seg[1][1], 6)) for seg in bars.get_segments()]
    assert spans == [(90.0, 110.0), (390.0, 410.0), (1590.0, 1610.0)]


def test_a_plain_race_document_is_drawn_with_one_run_per_point():
    race = document(
        [race_cell("none", "read committed", 1, 50.0), race_cell("none", "read committed", 8, 80.0)]
    )
    fig = draw(race)
    assert fig.axes[0].get_title() == "Throughput (one run per point)"
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


def test_the_terminal_chart_draws_every_series_against_the_worker_ticks():
    console = Console(width=80, record=True, color_system=None)
    console.print(terminal_chart(a_sweep(), width=80))
    lines = console.export_text().splitlines()
    assert lines[0] == "throughput (commits/s) against workers: counter, median of 3 runs"
    assert lines[1].startswith("   2,000 │")  # 1,600 rounded up to a nice ceiling
    assert lines[-2].split() == ["1", "4", "16"]
    assert lines[-1].split() == ["■", "none", "■", "pessimistic", "o", "RC", "x", "SER"]
    plot = "\n".join(lines[1:-3])
    assert plot.count("o") >= 3 and plot.count("x") >= 3  # the markers (series share points here)


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
