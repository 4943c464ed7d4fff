"""A calibration's rows (both clients' throughputs per round), its verdict and its results file."""

from __future__ import annotations

import math
import statistics
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from concord.calibrate.plan import TARGET_RATIO


@dataclass
class Row:
    """One worker count and executor: both clients' throughputs per round and their medians."""

    workers: int
    executor: str
    pgbench_tps: list[float] = field(default_factory=list)
    concord_tps: list[float] = field(default_factory=list)
    #: The plain-Python floor's runs (`run_floor`), when measured: one per round and worker
    #: count, shared by that worker count's executors.
    floor_tps: list[float] = field(default_factory=list)

    @property
    def ratios(self) -> list[float]:
        return _ratios(self.concord_tps, self.pgbench_tps)

    @property
    def ratio(self) -> float | None:
        return _median_ratio(self.ratios)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["pgbench_median"] = _median(self.pgbench_tps)
        out["concord_median"] = _median(self.concord_tps)
        out["ratios"] = [round(r, 3) for r in self.ratios]
        out["ratio"] = self.ratio
        out["ratio_quartiles"] = _quartiles(self.ratios)
        out["ratio_interval"] = _median_interval(self.ratios)
        if self.floor_tps:
            out["floor_median"] = _median(self.floor_tps)
            # what Python and psycopg cost here, and what concord costs on top of them
            out["floor_vs_pgbench"] = _median_ratio(_ratios(self.floor_tps, self.pgbench_tps))
            over_floor = _ratios(self.concord_tps, self.floor_tps)
            out["concord_vs_floor"] = _median_ratio(over_floor)
            out["concord_vs_floor_quartiles"] = _quartiles(over_floor)
            out["concord_vs_floor_interval"] = _median_interval(over_floor)
        return out


@dataclass
class CalibrationReport:
    started_at: str
    pgbench: str
    script: str
    parameters: dict[str, Any]
    default_executor: str
    rows: list[Row] = field(default_factory=list)
    interrupted: bool = False
    files: dict[str, str] = field(default_factory=dict)

    def best(self) -> dict[int, Row]:
        """Per worker count, the executor with the highest median ratio.

        Picked after the fact among noisy estimates, so biased upward: informative, but the target
        is judged on `headline`.
        """
        out: dict[int, Row] = {}
        for row in self.rows:
            if row.ratio is not None and (
                row.workers not in out or row.ratio > (out[row.workers].ratio or 0)
            ):
                out[row.workers] = row
        return out

    def headline(self) -> dict[int, float]:
        """Per worker count, the median executor's ratio: the figure the target is judged on.

        Each executor's ratio is already a median over rounds; taking the highest of them would
        reward whichever drew the luckier rounds. The median across executors picks nothing, so
        it carries no such bias (with one executor it is that executor's ratio).
        """
        by_workers: dict[int, list[float]] = {}
        for row in self.rows:
            if row.ratio is not None:
                by_workers.setdefault(row.workers, []).append(row.ratio)
        return {w: round(statistics.median(r), 3) for w, r in sorted(by_workers.items())}

    def as_dict(self) -> dict[str, Any]:
        best, headline = self.best(), self.headline()
        return {
            "started_at": self.started_at,
            "pgbench": self.pgbench,
            "script": self.script,
            "parameters": self.parameters,
            "default_executor": self.default_executor,
            "target_ratio": TARGET_RATIO,
            "rows": [r.as_dict() for r in self.rows],
            "best": {str(w): {"executor": r.executor, "ratio": r.ratio} for w, r in sorted(best.items())},
            "headline": {str(w): ratio for w, ratio in headline.items()},
            "target_met": bool(headline) and all(r >= TARGET_RATIO for r in headline.values()),
            "interrupted": self.interrupted,
            "files": self.files,
        }


def write_report(report: CalibrationReport, out_dir: str | Path = ".") -> str:
    """Write ``results/<stamp>-calibrate.json``; return its path.

    ``report`` is left as it was: the document written is ``report`` with that ``files`` entry.
    If writing fails, the document is saved elsewhere and `ResultsNotWritten` says where.
    """
    from concord.reports.files import json_text, write_run

    places = {"json": (Path(out_dir) / "results", ".json")}
    files = write_run(
        "calibrate",
        report.started_at,
        places,
        lambda files: {"json": json_text(replace(report, files=files).as_dict())},
        report.as_dict,
    )
    return files["json"]


def _ratios(tops: list[float], bottoms: list[float]) -> list[float]:
    """Per-round ratios of two clients' throughputs (rounds either lacks are left out)."""
    return [t / b for t, b in zip(tops, bottoms, strict=False) if b > 0]


def _quartiles(ratios: list[float]) -> list[float] | None:
    """The middle half of per-round ratios, ``[first quartile, third quartile]``; None with fewer
    than two rounds. How far apart they are says how much one median can be trusted: on a
    shared 2-core machine the middle half of 40 rounds spans 0.08 (benchmarks/README.md)."""
    if len(ratios) < 2:
        return None
    first, _, third = statistics.quantiles(ratios, n=4)
    return [round(first, 3), round(third, 3)]


#: How sure `_median_interval` is that the true median lies in its interval.
INTERVAL_CONFIDENCE = 0.95


def _median_interval(ratios: list[float]) -> list[float] | None:
    """``[low, high]``: an interval that holds the true median of the per-round ratios with at
    least 95% confidence, or None with fewer than six rounds (too few for 95%).

    It assumes nothing about how the rounds are spread (the sign test's interval): with ``n``
    rounds sorted, it runs from the ``k``-th smallest ratio to the ``k``-th largest, ``k`` the
    largest count for which both ends together miss the median with a chance of at most 5%
    (twice the chance of at most ``k - 1`` heads in ``n`` fair coin tosses). With 40 rounds it
    is the 14th smallest to the 14th largest. Where it holds the target, the rounds have not
    settled whether the target is met.
    """
    n, k, tail = len(ratios), 0, 0.0
    while k < n:
        tail += math.comb(n, k) / 2**n  # the chance of at most k heads
        if 2 * tail > 1 - INTERVAL_CONFIDENCE:
            break
        k += 1
    if k == 0:
        return None
    ordered = sorted(ratios)
    return [round(ordered[k - 1], 3), round(ordered[n - k], 3)]


def _median_ratio(ratios: list[float]) -> float | None:
    return round(statistics.median(ratios), 3) if ratios else None


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None
