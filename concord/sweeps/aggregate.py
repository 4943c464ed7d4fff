"""One sweep cell from its repeated runs: medians, the spread, and the counts summed.

A sweep cell keeps the keys of a race cell, so everything that reads race documents reads sweeps:

- ``throughput`` and ``latency_ms`` p50/p90/p95/p99/p999 are the medians over the runs;
  ``latency_ms.max`` is the largest of any run. ``latency_hdr`` is the runs' latency histograms
  merged (exact: every operation of every run), for reading percentiles over the runs together.
- ``attempts``, ``commits``, ``retries``, ``failures``, ``conflicts`` and ``violations`` are totals
  over the runs; ``duration_s`` is the median length of a run (each run's is in ``spread``).
- ``waits`` is the runs' wait profiles weighted by their samples, blocking edges and server
  counters summed (`concord.race.waits.merge`);
- ``spread`` holds each measure's values with their median, min and max; ``runs`` the runs themselves.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

from concord.nouns import count
from concord.race.latency import Latencies
from concord.race.results import CONFLICT_KEYS, CellResult, verdict
from concord.race.waits.merge import merge_server, merge_waits

#: What the spread is reported for: a name in the document and how to read it off a run.
SPREAD_MEASURES = {
    "duration_s": lambda run: run.duration_s,
    "throughput": lambda run: run.throughput,
    "p50_ms": lambda run: run.latency_ms.get("p50"),
    "p99_ms": lambda run: run.latency_ms.get("p99"),
}


def median(values: Sequence[float | None]) -> float | None:
    """The median of the values that are known; None when none is."""
    known = [v for v in values if v is not None]
    return round(statistics.median(known), 3) if known else None


def spread(values: list[float | None]) -> dict[str, Any]:
    """``{"values", "median", "min", "max"}`` of one measure over the runs (unknown values skipped)."""
    known = [v for v in values if v is not None]
    return {
        "values": list(values),
        "median": median(known),
        "min": min(known) if known else None,
        "max": max(known) if known else None,
    }


def aggregate_cell(runs: list[CellResult]) -> dict[str, Any]:
    """The sweep cell for the completed ``runs`` of one cell (at least one)."""
    first = runs[0]
    kinds = [*CONFLICT_KEYS, *sorted({k for r in runs for k in r.conflicts} - set(CONFLICT_KEYS))]
    conflicts = {k: sum(r.conflicts.get(k, 0) for r in runs) for k in kinds}
    retries, failures = sum(r.retries for r in runs), sum(r.failures for r in runs)
    violations = None if any(r.violations is None for r in runs) else sum(r.violations or 0 for r in runs)
    worst = max(runs, key=lambda r: r.violations or 0)
    broken = sum(1 for r in runs if r.violations)
    finding = (
        worst.finding
        if not broken
        else f"{worst.finding} (worst of {count(len(runs), 'run')}; {broken} broke it)"
    )
    cell = {
        "scenario": first.scenario,
        "strategy": first.strategy,
        "isolation": first.isolation,
        "executor": first.executor,
        "workers": first.workers,
        "duration_s": median([r.duration_s for r in runs]),
        "repeats": len(runs),
        "attempts": sum(r.attempts for r in runs),
        "commits": sum(r.commits for r in runs),
        "retries": retries,
        "failures": failures,
        "conflicts": conflicts,
        "violations": violations,
        "invariant": first.invariant,
        "throughput": median([r.throughput for r in runs]),
        "latency_ms": {
            **{p: median([r.latency_ms.get(p) for r in runs]) for p in ("p50", "p90", "p95", "p99", "p999")},
            "max": max((m for r in runs if (m := r.latency_ms.get("max")) is not None), default=None),
        },
        **merged_latency(runs),
        "verdict": verdict(violations, finding, conflicts, retries=retries, failures=failures),
        "finding": finding,
        "spread": {name: spread([read(r) for r in runs]) for name, read in SPREAD_MEASURES.items()},
        "runs": [run_summary(r) for r in runs],
        "waits": merge_waits([r.waits for r in runs]),
        "server": merge_server([r.server for r in runs]),
    }
    errors = [r.error for r in runs if r.error]
    if errors:  # a run failed (a user scenario's code raised): say so, and the sweep exits 1
        cell.update(error=errors[0], verdict=f"error: {errors[0]}")
    return cell


def merged_latency(runs: list[CellResult]) -> dict[str, Any]:
    """``{"latency_hdr": ...}``: the runs' histograms added up; empty when a run has none (a run
    kept from before histograms), as a merge of some runs would pass for all of them."""
    if not all(r.latency_hdr for r in runs):
        return {}
    merged = Latencies.merged([Latencies.from_document(r.latency_hdr) for r in runs])
    return {"latency_hdr": merged.document()}


def run_summary(run: CellResult) -> dict[str, Any]:
    """What a sweep keeps of one run: its numbers and verdict (traces and details stay behind)."""
    return {
        "throughput": run.throughput,
        "latency_ms": dict(run.latency_ms),
        "attempts": run.attempts,
        "commits": run.commits,
        "retries": run.retries,
        "failures": run.failures,
        "conflicts": dict(run.conflicts),
        "violations": run.violations,
        "verdict": run.verdict,
        **({"worker_errors": run.worker_errors[:3]} if run.worker_errors else {}),
    }
