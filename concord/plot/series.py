"""The lines of a chart: one `Series` per strategy x isolation, its points ordered by workers.

Pure data, no plotting library: the figure, the terminal chart and the tests all read these.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from concord.reports.cells import SHORT_ISOLATION


@dataclass
class Series:
    strategy: str
    isolation: str
    workers: list[int] = field(default_factory=list)
    throughput: list[float] = field(default_factory=list)
    throughput_min: list[float] = field(default_factory=list)
    throughput_max: list[float] = field(default_factory=list)
    p50_ms: list[float] = field(default_factory=list)
    p99_ms: list[float] = field(default_factory=list)
    conflicts_per_commit: list[float] = field(default_factory=list)
    violations: list[float] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.strategy} · {SHORT_ISOLATION.get(self.isolation, self.isolation)}"

    def add(self, cell: dict[str, Any]) -> None:
        throughput = _number(cell.get("throughput"))
        spread = cell.get("spread", {}).get("throughput") or {}
        commits = cell.get("commits") or 0
        conflicts = sum((cell.get("conflicts") or {}).values())
        self.workers.append(int(cell["workers"]))
        self.throughput.append(throughput)
        self.throughput_min.append(_number(spread.get("min"), throughput))
        self.throughput_max.append(_number(spread.get("max"), throughput))
        self.p50_ms.append(_number(cell.get("latency_ms", {}).get("p50")))
        self.p99_ms.append(_number(cell.get("latency_ms", {}).get("p99")))
        self.conflicts_per_commit.append(conflicts / commits if commits else math.nan)
        self.violations.append(_number(cell.get("violations")))


def series_of(document: dict[str, Any]) -> list[Series]:
    """The document's cells grouped into series, in the order strategies and isolations first appear.

    Two cells with the same strategy, isolation and worker count (a race run twice into one
    document cannot produce that, but a hand-edited file could) keep the first.
    """
    found: dict[tuple[str, str], Series] = {}
    for cell in sorted(document["cells"], key=lambda c: int(c["workers"])):
        key = (cell["strategy"], cell["isolation"])
        line = found.setdefault(key, Series(*key))
        if int(cell["workers"]) not in line.workers:
            line.add(cell)
    order = {
        key: n
        for n, key in enumerate(dict.fromkeys((c["strategy"], c["isolation"]) for c in document["cells"]))
    }
    return sorted(found.values(), key=lambda s: order[(s.strategy, s.isolation)])


def worker_ticks(series: list[Series]) -> list[int]:
    return sorted({w for s in series for w in s.workers})


def _number(value: Any, default: float = math.nan) -> float:
    return default if value is None else float(value)
