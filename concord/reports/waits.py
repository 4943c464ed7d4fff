"""The "where the time went" section of a report: one row per cell from its ``waits`` and
``server`` entries, as page blocks (Markdown, HTML) and as rows for the results' own Markdown."""

from __future__ import annotations

from typing import Any

from concord.race.waits.describe import blocking_line, cpu_line, nowait_line
from concord.reports.cells import SHORT_ISOLATION
from concord.reports.page import Bullets, Heading, Paragraph, Table

WAITS_HEADER = (
    "strategy",
    "isolation",
    "workers",
    "top waits (share of worker-time)",
    "lock",
    "client",
    "CPU",
    "most waiting",
    "longest wait ms",
    "server = clients",
)
WAITS_NUMERIC = frozenset({"workers", "lock", "client", "CPU", "most waiting", "longest wait ms"})
TOP = 3


def has_waits(document: dict[str, Any]) -> bool:
    return any(cell.get("waits") for cell in document.get("cells", []))


def waits_row(cell: dict[str, Any]) -> tuple[str, ...]:
    waits = cell.get("waits") or {}
    groups = waits.get("groups") or {}
    top = ", ".join(f"{k} {v:.0%}" for k, v in list((waits.get("profile") or {}).items())[:TOP])
    longest = waits.get("longest_wait_ms")
    return (
        cell["strategy"],
        cell["isolation"],
        str(cell["workers"]),
        top or "-",
        _share(groups.get("lock")),
        _share(groups.get("client")),
        _share(groups.get("cpu")),
        str(waits.get("max_waiters", "-")),
        "-" if not longest else f"{longest['ms']:,.0f}",
        server_summary(cell.get("server")),
    )


def server_summary(server: dict[str, Any] | None) -> str:
    """``deadlocks 12 = 12, rollback 40 = 40, commit 9,811 ≠ 9,810`` (server first)."""
    if not server:
        return "-"
    parts = []
    for r in server.get("reconciliation", []):
        name = r["counter"].removeprefix("xact_")
        parts.append(f"{name} {r['server']:,} {'=' if r['match'] else '≠'} {r['clients']:,}")
    return ", ".join(parts) or "-"


def waits_blocks(document: dict[str, Any]) -> list[Any]:
    """The section: what it measures, the table, and per cell what a table cannot hold."""
    cells = [c for c in document.get("cells", []) if c.get("waits")]
    if not cells:
        return []
    notes = []
    for cell in cells:
        waits = cell["waits"]
        said = [blocking_line(waits), *(x for x in (nowait_line(waits), cpu_line(waits)) if x)]
        said += (cell.get("server") or {}).get("mismatches", [])
        iso = SHORT_ISOLATION.get(cell["isolation"], cell["isolation"])
        label = f"{cell['strategy']}, {iso}, {cell['workers']}"
        notes.append(f"{label}: " + "; ".join(said))
    return [
        Heading("Where the time went"),
        Paragraph(
            "Each worker's backend was sampled from pg_stat_activity; a share is the share of "
            "samples x workers in that state: Lock:* waits on a row, transaction or advisory lock, "
            "CPU running with no wait, Client:* the time the server waited for concord's worker "
            "(between transactions, or inside one between statements). The server's own counters "
            "(pg_stat_database) are set against what the workers counted. " + sampling_sentence(cells)
        ),
        Table(WAITS_HEADER, [waits_row(c) for c in cells], WAITS_NUMERIC),
        Bullets(notes),
    ]


def sampling_sentence(cells: list[dict[str, Any]]) -> str:
    """The honesty line for a whole table: intervals, samples per cell, what sampling misses."""
    intervals = sorted({c["waits"]["interval_ms"] for c in cells})
    samples = [c["waits"]["samples"] for c in cells]
    every = " or ".join(f"{i:g}" for i in intervals)
    low, high = min(samples), max(samples)
    many = f"{low:,}" if low == high else f"{low:,} to {high:,}"
    return (
        f"Each cell was sampled every {every} ms ({many} samples per cell): "
        f"waits shorter than {intervals[0]:g} ms are undercounted, and the longest wait is an estimate "
        "to within one interval."
    )


def markdown_lines(document: dict[str, Any]) -> list[str]:
    """The section as Markdown lines, for the results' own ``.md`` file."""
    from concord.reports.page import Page, markdown

    blocks = waits_blocks(document)
    if not blocks:
        return []
    page = Page("", blocks)
    return markdown(page).splitlines()[2:]  # without the page's own title


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"
