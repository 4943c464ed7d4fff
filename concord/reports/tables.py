"""The cells of a result document as table rows, for Markdown, HTML and the CSV of a sweep.

Works on race and sweep documents alike: a sweep cell adds the range of its runs next to the
median (``312 (298-330)``).
"""

from __future__ import annotations

from typing import Any

SHORT_ISOLATION = {"read committed": "RC", "repeatable read": "RR", "serializable": "SER"}

CELL_HEADER = (
    "strategy",
    "isolation",
    "workers",
    "secs",
    "commits/s",
    "p50 ms",
    "p99 ms",
    "commits",
    "retries",
    "gave up",
    "conflicts",
    "violations",
    "verdict",
)
#: Columns holding numbers (right-aligned).
NUMERIC = frozenset(
    {"workers", "secs", "commits/s", "p50 ms", "p99 ms", "commits", "retries", "gave up", "violations"}
)


def cell_rows(document: dict[str, Any]) -> list[tuple[str, ...]]:
    """One row of `CELL_HEADER` values per cell."""
    return [cell_row(cell) for cell in document["cells"]]


def cell_row(cell: dict[str, Any]) -> tuple[str, ...]:
    spread = cell.get("spread", {})
    return (
        cell["strategy"],
        cell["isolation"],
        str(cell["workers"]),
        with_range(cell.get("duration_s"), spread.get("duration_s"), "{:,.1f}"),
        with_range(cell["throughput"], spread.get("throughput"), "{:,.0f}"),
        with_range(cell["latency_ms"].get("p50"), spread.get("p50_ms"), "{:,.1f}"),
        with_range(cell["latency_ms"].get("p99"), spread.get("p99_ms"), "{:,.1f}"),
        f"{cell.get('commits', 0):,}",
        f"{cell.get('retries', 0):,}",
        f"{cell.get('failures', 0):,}",
        conflict_summary(cell.get("conflicts", {})),
        "?" if cell.get("violations") is None else f"{cell['violations']:,}",
        cell.get("verdict", ""),
    )


def with_range(value: float | None, spread: dict[str, Any] | None, fmt: str) -> str:
    """``value`` formatted, followed by the min-max of the runs when there were several."""
    if value is None:
        return "-"
    text = fmt.format(value)
    if spread and len(spread.get("values", ())) > 1 and spread.get("min") is not None:
        text += f" ({fmt.format(spread['min'])}-{fmt.format(spread['max'])})"
    return text


def conflict_summary(conflicts: dict[str, int]) -> str:
    found = [f"{kind.replace('_', ' ')} {count:,}" for kind, count in conflicts.items() if count]
    return ", ".join(found) or "-"


def per_cell_unit(parameters: dict[str, Any]) -> str:
    """'up to 2 s per cell' (a cell that runs out of work stops sooner: each cell's ``duration_s``
    says how long it ran) or '5,000 ops per cell'."""
    if parameters.get("duration_s"):
        return f"up to {parameters['duration_s']:g} s per cell"
    return f"{parameters.get('ops') or 0:,} ops per cell"
