"""The figure: small multiples, a row per measure and a column per isolation level.

Rows: throughput, latency (p99 and p50), conflicts per commit and violations, each against
workers. Columns: one isolation level each, so a panel holds one line per strategy (four, not
twelve). When the cells carry wait profiles, a stacked bar per cell shows where the workers'
time went, below the panels (`concord.plot.waits`). A strategy keeps its colour and marker in
every panel, and the panels of a row share their y axis, so the same height means the same
value across isolation levels. Workers go on a log2 axis (ladders double), each line nudged a
little sideways so error bars at the same worker count do not hide each other.

matplotlib is imported only here, and only when a figure is asked for; the figure is a plain
`Figure` on an Agg canvas, never pyplot, so no display and no global state is involved.
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any

from concord.errors import ConcordError
from concord.plot.series import Series, series_of, worker_ticks
from concord.plot.waits import draw_waits, panel_inches

#: A strategy's marker, by its place among the document's strategies (colour goes with it, so
#: lines stay apart in greyscale and for colour-blind readers).
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]
FORMATS = (".png", ".svg")
ROWS = ("throughput", "latency", "conflicts", "violations")


class PlotExtraMissing(ConcordError):
    """matplotlib is not installed."""

    def __init__(self) -> None:
        super().__init__("charts need matplotlib: pip install 'concord[plot]'")


def draw(document: dict[str, Any]):
    """The figure for ``document``: a `matplotlib.figure.Figure` whose axes are the rows of
    `ROWS` (throughput, latency, conflicts, violations) times the isolation levels, row by row."""
    Figure, FigureCanvasAgg = _matplotlib()
    series = series_of(document)
    isolations = list(dict.fromkeys(s.isolation for s in series))
    styles = _styles(series)
    columns = len(isolations)
    waits = panel_inches(document)  # a stacked bar per cell below, when the cells have profiles
    fig = Figure(figsize=(max(7.5, 4.4 * columns + 1.6), 13 + waits), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    top, bottom = fig.subfigures(2, 1, height_ratios=[13, waits]) if waits else (fig, None)
    axes = top.subplots(len(ROWS), columns, sharex=True, sharey="row", squeeze=False)
    if bottom is not None:  # after the panels: fig.axes keeps them first, row by row
        draw_waits(bottom, document)
    runs = document.get("parameters", {}).get("repeats", 1)
    ticks = worker_ticks(series)
    for column, isolation in enumerate(isolations):
        panel = [s for s in series if s.isolation == isolation]
        _throughput(axes[0][column], panel, styles)
        _latency(axes[1][column], panel, styles)
        _per_commit(axes[2][column], panel, styles)
        _violations(axes[3][column], panel, styles)
        axes[0][column].set_title(isolation, fontsize=13, fontweight="bold")
        for ax in axes[:, column]:
            _workers_axis(ax, ticks)
        axes[-1][column].set_xlabel("workers (one connection each)")
    # Limits last, once every panel of the row has its data: the row shares one y axis.
    for row in (0, 2, 3):  # throughput, conflicts and violations start at zero
        axes[row][0].set_ylim(bottom=0)
    for ax, label in zip(axes[:, 0], _row_labels(runs), strict=True):
        ax.set_ylabel(label)
    handles, labels = _strategy_legend(axes[0], series)
    top.legend(handles, labels, loc="outside lower center", ncols=len(labels), title="strategy", fontsize=11)
    fig.suptitle(_title(document), fontsize=14)
    return fig


def save_figure(document: dict[str, Any], path: str | Path) -> Path:
    """Draw ``document`` into ``path`` (.png or .svg)."""
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        from concord.errors import InvalidInput

        raise InvalidInput(
            f"cannot write a chart as {path.suffix or 'a file without extension'}: use .png or .svg"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    _figure(document).savefig(path, format=path.suffix.lower().lstrip("."))
    return path


def figure_png(document: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    _figure(document).savefig(buffer, format="png")
    return buffer.getvalue()


def _figure(document: dict[str, Any]):
    """The figure for a race or sweep (`draw`) or for a calibrate result."""
    from concord.reports.store import document_kind

    if document_kind(document) == "calibrate":
        from concord.plot.calibration import draw_calibration

        return draw_calibration(document)
    return draw(document)


def _matplotlib():
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise PlotExtraMissing() from None
    return Figure, FigureCanvasAgg


def _styles(series: list[Series]) -> dict[str, dict[str, Any]]:
    """Colour and marker per strategy, the same in every panel."""
    strategies = list(dict.fromkeys(s.strategy for s in series))
    return {
        name: {"color": f"C{n % 10}", "marker": MARKERS[n % len(MARKERS)]}
        for n, name in enumerate(strategies)
    }


def _row_labels(runs) -> list[str]:
    spread = f"median of {runs} runs, bars: min-max" if runs and runs > 1 else "one run per point"
    summed = f", summed over {runs} runs" if runs and runs > 1 else ""
    return [
        f"throughput: commits per second\n({spread})",
        "latency per operation, ms (log)\np99 bold, p50 faint",
        "conflicts per commit\n(each retried, or the operation gave up)",
        f"violations: invariant broken\n(symlog{summed})",
    ]


def _strategy_legend(row, series: list[Series]):
    """One entry per strategy (the first panel that draws it), not one per panel."""
    found: dict[str, Any] = {}
    for ax in row:
        handles, labels = ax.get_legend_handles_labels()
        for handle, label in zip(handles, labels, strict=True):
            found.setdefault(label, handle)
    order = list(dict.fromkeys(s.strategy for s in series))
    return [found[name] for name in order if name in found], [name for name in order if name in found]


def _nudged(s: Series, panel: list[Series]) -> list[float]:
    k = panel.index(s) - (len(panel) - 1) / 2
    return [w * 2 ** (0.03 * k) for w in s.workers]


def _throughput(ax, panel, styles) -> None:
    for s in panel:
        below = [max(0.0, m - lo) for m, lo in zip(s.throughput, s.throughput_min, strict=True)]
        above = [max(0.0, hi - m) for m, hi in zip(s.throughput, s.throughput_max, strict=True)]
        ax.errorbar(
            _nudged(s, panel),
            s.throughput,
            yerr=[below, above],
            capsize=3,
            elinewidth=0.9,
            label=s.strategy,
            markersize=5,
            linewidth=1.8,
            **styles[s.strategy],
        )


def _latency(ax, panel, styles) -> None:
    for s in panel:
        style = styles[s.strategy]
        ax.plot(s.workers, s.p99_ms, label=s.strategy, markersize=5, linewidth=1.8, **style)
        ax.plot(
            s.workers,
            s.p50_ms,
            label=f"_{s.strategy} p50",
            linestyle="--",
            markersize=3,
            linewidth=0.9,
            alpha=0.45,
            **style,
        )
    if any(v > 0 for s in panel for v in s.p99_ms + s.p50_ms if not math.isnan(v)):
        ax.set_yscale("log")


def _per_commit(ax, panel, styles) -> None:
    for s in panel:
        ax.plot(s.workers, s.conflicts_per_commit, label=s.strategy, markersize=5, **styles[s.strategy])


def _violations(ax, panel, styles) -> None:
    for s in panel:
        ax.plot(s.workers, s.violations, label=s.strategy, markersize=5, **styles[s.strategy])
    ax.set_yscale("symlog", linthresh=1)


def _workers_axis(ax, ticks: list[int]) -> None:
    from matplotlib.ticker import FixedLocator, NullLocator, ScalarFormatter

    ax.set_xscale("log", base=2)
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_minor_locator(NullLocator())
    ax.grid(True, alpha=0.3)
    if len(ticks) == 1:  # one worker count: show the strategies' nudged points side by side, not
        ax.set_xlim(ticks[0] / 1.5, ticks[0] * 1.5)  # at the edges of a range autoscaled to the nudge


def _title(document: dict[str, Any]) -> str:
    params = document.get("parameters", {})
    kind = document.get("kind", "race")
    return (
        f"concord {kind}: {params.get('scenario', '?')} · {params.get('executor', '?')} executor\n"
        f"PostgreSQL {document.get('database', {}).get('server_version', '?')} · "
        f"{document.get('started_at', '')}"
    )
