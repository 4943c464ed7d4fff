"""The columns of a result's cells, said once, and the tables concord draws from them: the
terminal's (race, sweep), the report page's, the race's own Markdown, the race's and the sweep's
CSV. Works on race and sweep cells alike: a sweep cell adds the range of its runs next to the
median (``312 (298-330)``).

CSV column order is a contract (downstream tools read the files by position too): a new column
goes at the end of its list.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from concord.race.results import CONFLICT_KEYS
from concord.race.waits.describe import top_wait
from concord.reports.table import Cell, Column, columns_by_key

SHORT_ISOLATION = {"read committed": "RC", "repeatable read": "RR", "serializable": "SER"}


def with_range(value: float | None, spread: dict[str, Any] | None, fmt: str) -> str:
    """``value`` formatted, followed by the min-max of the runs when there were several."""
    if value is None:
        return "-"
    text = fmt.format(value)
    if spread and len(spread.get("values", ())) > 1 and spread.get("min") is not None:
        low, high = fmt.format(spread["min"]), fmt.format(spread["max"])
        if low != high:  # "0.3 (0.3-0.3)" says no more than "0.3" (the title says the runs)
            text += f" ({low}-{high})"
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


def verdict_style(cell: Cell) -> str:
    """Red for a broken (or unchecked) invariant, green for a kept one."""
    violations = cell.get("violations")
    return "bold red" if violations is None or violations > 0 else "green"


def _ranged(key: str, header: str, value: Callable[[Cell], Any], spread_key: str, fmt: str) -> Column:
    """A measure: the median (a race's one value) with the min-max of a sweep's runs."""
    return Column(
        key,
        header,
        value=value,
        text=lambda c: with_range(value(c), (c.get("spread") or {}).get(spread_key), fmt),
        right=True,
    )


def _latency(name: str) -> Column:
    return _ranged(
        f"{name}_ms", f"{name} ms", lambda c: (c.get("latency_ms") or {}).get(name), f"{name}_ms", "{:,.1f}"
    )


def _total(key: str, header: str) -> Column:
    return Column(key, header, text=lambda c: f"{c.get(key) or 0:,}", right=True)


def _lock_share(cell: Cell) -> float | None:
    waits = cell.get("waits")
    return waits.get("groups", {}).get("lock", 0.0) if waits else None


def _conflict(kind: str) -> Column:
    return Column(kind, value=lambda c: (c.get("conflicts") or {}).get(kind, 0))


def _short_isolation(cell: Cell) -> str:
    isolation: str = cell["isolation"]
    return SHORT_ISOLATION.get(isolation, isolation)


def _spread(measure: str, stat: str) -> Column:
    return Column(f"{measure}_{stat}", value=lambda c: ((c.get("spread") or {}).get(measure) or {}).get(stat))


COLUMNS: tuple[Column, ...] = (
    Column("scenario"),
    Column("strategy"),
    Column("isolation"),
    Column(
        "iso",
        "iso",
        value=lambda c: c["isolation"],
        text=_short_isolation,
    ),
    Column("executor"),
    Column("workers", text=lambda c: str(c["workers"]), right=True),
    Column("repeats"),
    # measured, not asked for: a cell can end before its time is up
    _ranged("duration_s", "secs", lambda c: c.get("duration_s"), "duration_s", "{:,.1f}"),
    _ranged("throughput", "commits/s", lambda c: c.get("throughput"), "throughput", "{:,.0f}"),
    *(_latency(name) for name in ("p50", "p90", "p95", "p99", "p999", "max")),
    _total("attempts", "attempts"),
    _total("commits", "commits"),
    _total("retries", "retries"),
    _total("failures", "gave up"),
    Column("conflicts", text=lambda c: conflict_summary(c.get("conflicts") or {})),
    *(_conflict(kind) for kind in CONFLICT_KEYS),
    Column(
        "violations",
        text=lambda c: "?" if c.get("violations") is None else f"{c['violations']:,}",
        right=True,
        style=verdict_style,
    ),
    Column("verdict", value=lambda c: c.get("verdict", ""), wraps=True, style=verdict_style),
    Column(
        "top_wait",
        "where the time went",
        value=lambda c: top_wait(c["waits"]) if c.get("waits") else None,
        right=True,
        optional=True,  # sampling off, or a file from before it
    ),
    Column("lock_share", value=_lock_share),
    *(_spread(m, s) for m in ("throughput", "p99_ms") for s in ("median", "min", "max")),
    _spread("p50_ms", "median"),
)


def columns(*keys: str) -> tuple[Column, ...]:
    """The catalogue's columns named by ``keys``, in that order."""
    return columns_by_key(COLUMNS, keys)


#: The table of cells on a report page (Markdown, HTML) and in a sweep's Markdown.
REPORT = columns(
    "strategy",
    "isolation",
    "workers",
    "duration_s",
    "throughput",
    "p50_ms",
    "p99_ms",
    "commits",
    "retries",
    "failures",
    "conflicts",
    "violations",
    "verdict",
)

#: The table in a race's own ``.md`` file.
RACE_MARKDOWN = columns(
    "strategy",
    "isolation",
    "workers",
    "duration_s",
    "throughput",
    "commits",
    "retries",
    "failures",
    "conflicts",
    "p50_ms",
    "p99_ms",
    "violations",
    "verdict",
)

#: `concord race` in the terminal (with a ``#`` before, when drawn); ``NARROW`` go under the table.
RACE_TERMINAL = columns(
    "strategy",
    "iso",
    "workers",
    "duration_s",
    "throughput",
    "commits",
    "retries",
    "failures",
    "p50_ms",
    "p99_ms",
    "violations",
    "top_wait",
    "verdict",
)
RACE_NARROW = ("duration_s", "commits", "p50_ms", "top_wait", "verdict")

#: `concord sweep` in the terminal: medians with the runs' min-max.
SWEEP_TERMINAL = tuple(
    c.titled(f"{c.title} (min-max)") if c.key in ("throughput", "p99_ms") else c
    for c in columns(
        "strategy",
        "iso",
        "workers",
        "duration_s",
        "throughput",
        "p99_ms",
        "retries",
        "failures",
        "violations",
        "top_wait",
        "verdict",
    )
)
SWEEP_NARROW = ("duration_s", "retries", "failures", "top_wait", "verdict")

# added after the first release: at the end, so every earlier column keeps its place
RACE_CSV = columns(
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
    *CONFLICT_KEYS,
    "violations",
    "throughput",
    "p50_ms",
    "p95_ms",
    "p99_ms",
    "max_ms",
    "verdict",
    "p90_ms",
    "p999_ms",
    "top_wait",
    "lock_share",
)

SWEEP_CSV = columns(
    "scenario",
    "strategy",
    "isolation",
    "executor",
    "workers",
    "repeats",
    "duration_s",
    "throughput_median",
    "throughput_min",
    "throughput_max",
    "p50_ms_median",
    "p99_ms_median",
    "p99_ms_min",
    "p99_ms_max",
    "attempts",
    "commits",
    "retries",
    "failures",
    *CONFLICT_KEYS,
    "violations",
    "verdict",
    "top_wait",
    "lock_share",
)
