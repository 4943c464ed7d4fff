"""A compact throughput chart for the terminal, drawn with Rich on character grids.

Small multiples, as in the figure: one panel per isolation level, stacked, all on the same y
scale, each with one line per strategy. A strategy has the same colour and the same letter as
its point marker in every panel (so the chart reads without colour too), and dots join the
points. Worker counts are spaced evenly along x, as on a log axis for a doubling ladder. Rich,
not plotext: it is always installed, and the chart is testable as plain text.
"""

from __future__ import annotations

import math
from typing import Any

from rich.console import Group
from rich.text import Text

from concord.plot.series import Series, series_of, worker_ticks

COLOURS = ["red", "blue", "green", "magenta", "cyan", "yellow", "bright_red", "bright_blue"]
JOIN = "·"
Y_LABEL_WIDTH = 8
PANEL_HEIGHT = 9  # rows per panel when there are several; one panel alone gets the whole height


def terminal_chart(document: dict[str, Any], *, width: int = 80, height: int = 13) -> Group:
    """Throughput against workers, a panel per isolation level, about ``width`` columns wide."""
    series = series_of(document)
    ticks = worker_ticks(series)
    columns = max(len(ticks) * 4, width - Y_LABEL_WIDTH - 2)
    top = _nice_ceiling(max((v for s in series for v in s.throughput if not math.isnan(v)), default=1.0))
    strategies = list(dict.fromkeys(s.strategy for s in series))
    colours = {name: COLOURS[n % len(COLOURS)] for n, name in enumerate(strategies)}
    markers = marker_letters(strategies)
    isolations = list(dict.fromkeys(s.isolation for s in series))
    rows = height if len(isolations) == 1 else min(height, PANEL_HEIGHT)
    parts: list[Text] = [Text(f"throughput (commits/s) against workers: {_title(document)}", style="bold")]
    for isolation in isolations:
        panel = [s for s in series if s.isolation == isolation]
        grid = _grid(panel, ticks, columns, rows, top, colours, markers)
        parts += [Text(isolation, style="bold"), *_plot_lines(grid, top), _x_axis(ticks, columns)]
    parts.append(_legend(strategies, colours, markers))
    return Group(*parts)


def marker_letters(strategies: list[str]) -> dict[str, str]:
    """A letter per strategy for its points: its first letter not taken yet (nowait after none: o)."""
    taken: dict[str, str] = {}
    for name in strategies:
        spare = [c for c in name.lower() if c.isalnum() and c not in taken.values()]
        taken[name] = spare[0] if spare else "*"
    return taken


def _grid(panel, ticks, columns, height, top, colours, markers) -> list[list[tuple[str, str]]]:
    grid: list[list[tuple[str, str]]] = [[(" ", "")] * columns for _ in range(height)]

    def place(s: Series) -> list[tuple[int, int]]:
        return [
            (_column(ticks.index(w), len(ticks), columns), _row(v, top, height))
            for w, v in zip(s.workers, s.throughput, strict=True)
            if not math.isnan(v)
        ]

    for s in panel:  # joins first, so every marker is drawn over them
        for (c0, r0), (c1, r1) in zip(place(s), place(s)[1:], strict=False):
            for c in range(c0 + 1, c1):
                r = round(r0 + (r1 - r0) * (c - c0) / (c1 - c0))
                if grid[r][c][0] == " ":
                    grid[r][c] = (JOIN, colours[s.strategy])
    for s in panel:
        for c, r in place(s):
            grid[r][c] = (markers[s.strategy], f"bold {colours[s.strategy]}")
    return grid


def _plot_lines(grid, top: float) -> list[Text]:
    height = len(grid)
    lines = []
    for r, row in enumerate(grid):
        value = top * (height - 1 - r) / (height - 1)
        label = f"{value:,.0f}" if r % max(1, (height - 1) // 4) == 0 else ""
        line = Text(f"{label:>{Y_LABEL_WIDTH}} │", style="dim")
        for char, style in row:
            line.append(char, style=style)
        lines.append(line)
    return lines


def _x_axis(ticks: list[int], columns: int) -> Text:
    axis = [" "] * (columns + 4)
    for n, w in enumerate(ticks):
        label = str(w)
        start = max(0, _column(n, len(ticks), columns) - len(label) // 2)
        axis[start : start + len(label)] = label
    return Text(
        " " * Y_LABEL_WIDTH
        + " └"
        + "─" * columns
        + "\n"
        + " " * (Y_LABEL_WIDTH + 2)
        + "".join(axis).rstrip(),
        style="dim",
    )


def _legend(strategies: list[str], colours: dict[str, str], markers: dict[str, str]) -> Text:
    legend = Text("  ")
    for strategy in strategies:
        legend.append(f"{markers[strategy]} ■ ", style=f"bold {colours[strategy]}").append(f"{strategy}   ")
    legend.rstrip()
    return legend


def _column(index: int, count: int, columns: int) -> int:
    margin = 2
    return margin if count == 1 else margin + round(index * (columns - 1 - 2 * margin) / (count - 1))


def _row(value: float, top: float, height: int) -> int:
    return height - 1 - round(min(value, top) / top * (height - 1))


def _nice_ceiling(value: float) -> float:
    """1, 2, 2.5 or 5 times a power of ten, at or above ``value``."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 2.5, 5, 10) if step * power >= value)


def _title(document: dict[str, Any]) -> str:
    params = document.get("parameters", {})
    runs = params.get("repeats")
    return f"{params.get('scenario', '?')}" + (f", median of {runs} runs" if runs and runs > 1 else "")
