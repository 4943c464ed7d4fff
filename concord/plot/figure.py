"""The four-panel figure: throughput, latency, conflicts per commit and violations against workers.

Each line is one strategy x isolation level. The strategy sets the colour and the isolation level
sets both the marker and the line style, so lines stay apart in print, in greyscale and for
colour-blind readers. Workers go on a log2 axis (ladders double), each line nudged a little
sideways so error bars at the same worker count do not hide each other.

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

#: Isolation level -> (marker, line style).
ISOLATION_STYLE = {
    "read committed": ("o", "-"),
    "repeatable read": ("s", "--"),
    "serializable": ("^", ":"),
}
OTHER_STYLES = [("D", "-."), ("v", (0, (5, 1))), ("P", (0, (1, 1)))]
FORMATS = (".png", ".svg")


class PlotExtraMissing(ConcordError):
    """matplotlib is not installed."""

    def __init__(self) -> None:
        super().__init__("charts need matplotlib: pip install 'concord[plot]'")


def draw(document: dict[str, Any]):
    """The figure for ``document`` (a `matplotlib.figure.Figure` with four axes)."""
    Figure, FigureCanvasAgg = _matplotlib()
    series = series_of(document)
    fig = Figure(figsize=(14, 10.5), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(2, 2, sharex=True)
    styles = _styles(series)
    runs = document.get("parameters", {}).get("repeats", 1)
    _throughput(axes[0][0], series, styles, runs)
    _latency(axes[0][1], series, styles)
    _per_commit(axes[1][0], series, styles)
    _violations(axes[1][1], series, styles, runs)
    for ax in axes.flat:
        _workers_axis(ax, worker_ticks(series))
    handles, labels = axes[0][0].get_legend_handles_labels()
    strategies = len(dict.fromkeys(s.strategy for s in series))
    fig.legend(
        handles, labels, loc="outside lower center", ncols=max(1, strategies), title="strategy · isolation"
    )
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
    draw(document).savefig(path, format=path.suffix.lower().lstrip("."))
    return path


def figure_png(document: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    draw(document).savefig(buffer, format="png")
    return buffer.getvalue()


def _matplotlib():
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise PlotExtraMissing() from None
    return Figure, FigureCanvasAgg


def _styles(series: list[Series]) -> dict[tuple[str, str], dict[str, Any]]:
    strategies = list(dict.fromkeys(s.strategy for s in series))
    others = iter(OTHER_STYLES * 3)
    isolation_style = {
        i: ISOLATION_STYLE.get(i) or next(others) for i in dict.fromkeys(s.isolation for s in series)
    }
    out = {}
    for s in series:
        marker, linestyle = isolation_style[s.isolation]
        colour = f"C{strategies.index(s.strategy) % 10}"
        out[(s.strategy, s.isolation)] = {"color": colour, "marker": marker, "linestyle": linestyle}
    return out


def _nudged(s: Series, series: list[Series]) -> list[float]:
    k = series.index(s) - (len(series) - 1) / 2
    return [w * 2 ** (0.03 * k) for w in s.workers]


def _throughput(ax, series, styles, runs) -> None:
    for s in series:
        x = _nudged(s, series)
        below = [max(0.0, m - lo) for m, lo in zip(s.throughput, s.throughput_min, strict=True)]
        above = [max(0.0, hi - m) for m, hi in zip(s.throughput, s.throughput_max, strict=True)]
        ax.errorbar(
            x,
            s.throughput,
            yerr=[below, above],
            capsize=3,
            elinewidth=0.9,
            label=s.label,
            markersize=5,
            **styles[(s.strategy, s.isolation)],
        )
    spread = f"median of {runs} runs, bars: min-max" if runs and runs > 1 else "one run per point"
    ax.set(title=f"Throughput ({spread})", ylabel="commits per second")
    ax.set_ylim(bottom=0)


def _latency(ax, series, styles) -> None:
    for s in series:
        style = styles[(s.strategy, s.isolation)]
        ax.plot(s.workers, s.p99_ms, label=s.label, markersize=5, **style)
        ax.plot(
            s.workers,
            s.p50_ms,
            label=f"_{s.label} p50",
            color=style["color"],
            linestyle=style["linestyle"],
            marker=style["marker"],
            markersize=3,
            linewidth=0.8,
            alpha=0.35,
        )
    ax.set(title="Latency per operation: p99 (bold) and p50 (faint)", ylabel="milliseconds (log scale)")
    if any(v > 0 for s in series for v in s.p99_ms + s.p50_ms if not math.isnan(v)):
        ax.set_yscale("log")


def _per_commit(ax, series, styles) -> None:
    for s in series:
        ax.plot(
            s.workers,
            s.conflicts_per_commit,
            label=s.label,
            markersize=5,
            **styles[(s.strategy, s.isolation)],
        )
    ax.set(
        title="Conflicts per commit (each one retried, or the operation gave up)", ylabel="conflicts / commit"
    )
    ax.set_ylim(bottom=0)


def _violations(ax, series, styles, runs) -> None:
    for s in series:
        ax.plot(s.workers, s.violations, label=s.label, markersize=5, **styles[(s.strategy, s.isolation)])
    summed = f", summed over {runs} runs" if runs and runs > 1 else ""
    ax.set(title=f"Violations: the invariant broken{summed}", ylabel="violations (symlog scale)")
    ax.set_yscale("symlog", linthresh=1)
    ax.set_ylim(bottom=0)


def _workers_axis(ax, ticks: list[int]) -> None:
    from matplotlib.ticker import FixedLocator, NullLocator, ScalarFormatter

    ax.set_xscale("log", base=2)
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xlabel("workers (one connection each)")
    ax.tick_params(labelbottom=True)
    ax.grid(True, alpha=0.3)


def _title(document: dict[str, Any]) -> str:
    params = document.get("parameters", {})
    kind = document.get("kind", "race")
    return (
        f"concord {kind}: {params.get('scenario', '?')} · {params.get('executor', '?')} executor · "
        f"PostgreSQL {document.get('database', {}).get('server_version', '?')} · "
        f"{document.get('started_at', '')}"
    )
