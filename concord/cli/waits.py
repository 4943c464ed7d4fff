"""Where the time went, in the terminal: ``--waits`` on `concord race`, `concord sweep` and
`concord results show`, and the lines every race table ends with when a cell needs them."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from concord.nouns import count
from concord.race.waits.describe import detail_lines, top_wait
from concord.reports.cells import SHORT_ISOLATION


def as_dict(cell: Any) -> dict[str, Any]:
    """A cell as the document holds it (a `CellResult` or a sweep's dictionary)."""
    return cell if isinstance(cell, dict) else cell.to_dict()


def label(n: int, cell: dict[str, Any]) -> str:
    iso = SHORT_ISOLATION.get(cell["isolation"], cell["isolation"])
    return f"{n}. {cell['strategy']}, {iso}, {count(cell['workers'], 'worker')}"


def print_waits(console: Console, cells: list[Any]) -> None:
    """Each cell's profile, blocking, CPU and server counters, under a heading of its own."""
    for n, cell in enumerate(map(as_dict, cells), 1):
        console.print(f"\n{label(n, cell)}: where the time went", style="bold", markup=False, highlight=False)
        for line in detail_lines(cell.get("waits"), cell.get("server")):
            console.print(line, markup=False, highlight=False)


def print_warnings(console: Console, cells: list[Any]) -> None:
    """What must not go unseen under any table: a client-bound cell, and server counters that
    disagree with the workers' (never hidden, even without ``--waits``)."""
    for n, cell in enumerate(map(as_dict, cells), 1):
        cpu = (cell.get("waits") or {}).get("cpu") or {}
        if cpu.get("client_bound"):
            console.print(
                f"{label(n, cell)}: {cpu['note']}", style="bold yellow", markup=False, highlight=False
            )
        for mismatch in (cell.get("server") or {}).get("mismatches", []):
            console.print(
                f"{label(n, cell)}: server counter ≠ clients': {mismatch}",
                style="yellow",
                markup=False,
                highlight=False,
            )


__all__ = ["print_waits", "print_warnings", "top_wait"]
