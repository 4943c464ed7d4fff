"""The chart of a calibrate result: concord's throughput as a share of pgbench's, per worker count
and executor.

Each dot is an executor's median ratio over the rounds, its whisker the lowest and highest
round; a dashed line marks the target and a solid one parity with pgbench. The terminal version
draws the same medians as bars.
"""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.text import Text

from concord.plot.terminal import COLOURS

BAR_WIDTH = 40  # characters for a ratio of 1.25, the right edge of the terminal scale
SCALE_TOP = 1.25


def draw_calibration(document: dict[str, Any]):
    """The ratio chart for a calibrate ``document`` (a `matplotlib.figure.Figure`)."""
    from concord.plot.figure import _matplotlib

    Figure, FigureCanvasAgg = _matplotlib()
    rows = document["rows"]
    workers = sorted({int(r["workers"]) for r in rows})
    executors = list(dict.fromkeys(r["executor"] for r in rows))
    fig = Figure(figsize=(max(6.5, 1.6 * len(workers) * len(executors) + 2.5), 5.5), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    width = 0.8 / len(executors)
    for n, executor in enumerate(executors):
        mine = [r for r in rows if r["executor"] == executor and _ratios(r)]
        x = [workers.index(int(r["workers"])) + (n - (len(executors) - 1) / 2) * width for r in mine]
        medians = [_median(_ratios(r)) for r in mine]
        low = [m - min(_ratios(r)) for m, r in zip(medians, mine, strict=True)]
        high = [max(_ratios(r)) - m for m, r in zip(medians, mine, strict=True)]
        ax.errorbar(
            x, medians, yerr=[low, high], fmt="o", capsize=4, markersize=8, label=executor, color=f"C{n}"
        )
        for xi, m in zip(x, medians, strict=True):
            ax.annotate(f"{m:.2f}", (xi, m), textcoords="offset points", xytext=(9, -3), fontsize=9)
    target = document.get("target_ratio")
    if target:
        ax.axhline(target, color="0.4", linestyle="--", linewidth=1, label=f"target {target:g}")
    ax.axhline(1.0, color="0.2", linewidth=0.8, label="as fast as pgbench")
    ax.set_xticks(range(len(workers)), [f"{w} worker{'s' * (w != 1)}" for w in workers])
    ax.set_xlim(-0.6, len(workers) - 0.4)  # room for the value printed right of the last dot
    top = max([SCALE_TOP] + [max(_ratios(r)) for r in rows if _ratios(r)])
    ax.set_ylim(0, top * 1.08)
    ax.set_ylabel("concord tps / pgbench tps (median of rounds, bars: min-max)")
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(title="executor", loc="lower left")
    rounds = document.get("parameters", {}).get("rounds", 0)
    fig.suptitle(
        f"concord calibrate: counter / pessimistic, concord against pgbench\n"
        f"{rounds} alternating round{'s' * (rounds != 1)} · {document.get('started_at', '')}",
        fontsize=12,
    )
    return fig


def calibration_chart(document: dict[str, Any]) -> Group:
    """The median ratios as bars in the terminal, with the target and parity marked on the scale."""
    rows = [r for r in document["rows"] if _ratios(r)]
    executors = list(dict.fromkeys(r["executor"] for r in rows))
    colours = {name: COLOURS[n % len(COLOURS)] for n, name in enumerate(executors)}
    target = document.get("target_ratio") or 0.9
    label_width = max((len(_label(r)) for r in rows), default=0)
    lines = [Text("concord tps / pgbench tps per worker count and executor (median of rounds)", style="bold")]
    for row in sorted(rows, key=lambda r: (int(r["workers"]), executors.index(r["executor"]))):
        ratio = _median(_ratios(row))
        line = Text(f"{_label(row):<{label_width}} ")
        line.append("█" * _cells(ratio), style=colours[row["executor"]])
        line.append(f" {ratio:.2f}")
        lines.append(line)
    scale = [" "] * (BAR_WIDTH + 1)
    scale[_cells(target)], scale[_cells(1.0)] = "┆", "│"
    lines.append(Text(" " * (label_width + 1) + "".join(scale), style="dim"))
    lines.append(Text(f"{' ' * (label_width + 1)}┆ target {target:g}   │ as fast as pgbench", style="dim"))
    return Group(*lines)


def _label(row: dict[str, Any]) -> str:
    workers = int(row["workers"])
    return f"{workers} worker{'s' * (workers != 1)} · {row['executor']}"


def _cells(ratio: float) -> int:
    return max(0, min(BAR_WIDTH, round(ratio / SCALE_TOP * BAR_WIDTH)))


def _ratios(row: dict[str, Any]) -> list[float]:
    """Per-round ratios, as the document has them, else from the two clients' runs."""
    if row.get("ratios"):
        return [float(r) for r in row["ratios"]]
    return [c / p for c, p in zip(row["concord_tps"], row["pgbench_tps"], strict=False) if p > 0]


def _median(values: list[float]) -> float:
    import statistics

    return statistics.median(values)
