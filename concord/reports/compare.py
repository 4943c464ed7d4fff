"""Two result documents side by side: per matching cell, the change in throughput and p99, and
whether that change is larger than the run-to-run spread.

Cells match on (scenario, strategy, isolation, workers). A change is *within spread* when the
runs of A and the runs of B overlap (their min-max ranges share a value): the difference is no
bigger than what repeating the same cell already produced. *Beyond spread* means the ranges are
apart. A single run has no range; when neither side has one the spread is *unknown*, and when
only one side has, the single value is compared with that range.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

WITHIN = "within spread"
BEYOND = "beyond spread"
UNKNOWN = "spread unknown"
NOT_SET = "not set"  # a parameter or setting one run did not record
#: Parameters whose difference changes what a cell measures.
COMPARED_PARAMETERS = ("executor", "event_loop", "duration_s", "ops", "max_tries", "repeats")

Key = tuple[str, str, str, int]


@dataclass(frozen=True)
class Change:
    """One measure of one cell in A and in B."""

    a: float | None
    b: float | None
    change_pct: float | None
    note: str


@dataclass(frozen=True)
class CellComparison:
    scenario: str
    strategy: str
    isolation: str
    workers: int
    throughput: Change
    p99_ms: Change
    violations_a: int | None
    violations_b: int | None


@dataclass
class Comparison:
    a: str
    b: str
    cells: list[CellComparison] = field(default_factory=list)
    only_in_a: list[Key] = field(default_factory=list)
    only_in_b: list[Key] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def compare(a: dict[str, Any], b: dict[str, Any], *, names: tuple[str, str] = ("A", "B")) -> Comparison:
    """Compare result document ``a`` (the baseline) with ``b``."""
    cells_a, cells_b = _by_key(a), _by_key(b)
    out = Comparison(*names, differences=differences(a, b))
    for key, cell_a in cells_a.items():
        cell_b = cells_b.get(key)
        if cell_b is None:
            out.only_in_a.append(key)
            continue
        out.cells.append(
            CellComparison(
                *key,
                throughput=change(cell_a, cell_b, "throughput"),
                p99_ms=change(cell_a, cell_b, "p99_ms"),
                violations_a=cell_a.get("violations"),
                violations_b=cell_b.get("violations"),
            )
        )
    out.only_in_b = [key for key in cells_b if key not in cells_a]
    return out


def change(cell_a: dict[str, Any], cell_b: dict[str, Any], measure: str) -> Change:
    """The change of ``measure`` ("throughput" or "p99_ms") from A to B, with its spread note."""
    a, b = value(cell_a, measure), value(cell_b, measure)
    pct = None if a is None or b is None or a == 0 else round((b - a) / a * 100, 1)
    return Change(a, b, pct, spread_note(a, b, value_range(cell_a, measure), value_range(cell_b, measure)))


def value(cell: dict[str, Any], measure: str) -> float | None:
    if measure == "throughput":
        return cell.get("throughput")
    return (cell.get("latency_ms") or {}).get(measure.removesuffix("_ms"))


def value_range(cell: dict[str, Any], measure: str) -> tuple[float, float] | None:
    """The min-max of the cell's runs, when it had more than one."""
    spread = (cell.get("spread") or {}).get(measure) or {}
    known = [v for v in spread.get("values", []) if v is not None]
    return (min(known), max(known)) if len(known) > 1 else None


def spread_note(
    a: float | None, b: float | None, range_a: tuple[float, float] | None, range_b: tuple[float, float] | None
) -> str:
    if a is None or b is None or (range_a is None and range_b is None):
        return UNKNOWN
    low_a, high_a = range_a or (a, a)
    low_b, high_b = range_b or (b, b)
    return WITHIN if low_a <= high_b and low_b <= high_a else BEYOND


def differences(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """What differs between the two runs besides the cells: parameters, server, settings."""
    out = []
    pa, pb = a.get("parameters", {}), b.get("parameters", {})
    for name in COMPARED_PARAMETERS:
        default = 1 if name == "repeats" else None  # a race runs each cell once
        if pa.get(name, default) != pb.get(name, default):
            out.append(_difference(name, pa.get(name, default), pb.get(name, default)))
    da, db = a.get("database", {}), b.get("database", {})
    if da.get("server_version") != db.get("server_version"):
        out.append(_difference("PostgreSQL", da.get("server_version"), db.get("server_version")))
    sa, sb = da.get("settings", {}), db.get("settings", {})
    for name in sorted(set(sa) | set(sb)):
        if sa.get(name) != sb.get(name):
            out.append(_difference(name, sa.get(name), sb.get(name)))
    return out


def _difference(name: str, a: Any, b: Any) -> str:
    """``name: a vs b``; a value one run did not record (no event loop on threads, no ``ops``
    on a timed run) reads "not set", not Python's ``None``."""
    return f"{name}: {NOT_SET if a is None else a} vs {NOT_SET if b is None else b}"


def _by_key(document: dict[str, Any]) -> dict[Key, dict[str, Any]]:
    scenario = document.get("parameters", {}).get("scenario", "?")
    return {
        (c.get("scenario", scenario), c["strategy"], c["isolation"], int(c["workers"])): c
        for c in document["cells"]
    }
