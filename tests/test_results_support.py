"""Support for the sweep, plot, results and report tests (no tests here): hand-made result documents.

The numbers are chosen, not measured, so every assertion about medians, spreads and changes can
be exact.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

CONFLICTS = ("serialization_failure", "deadlock", "lock_not_available", "stale_version", "row_missed")


def race_cell(
    strategy: str,
    isolation: str,
    workers: int,
    throughput: float,
    *,
    p50: float = 1.0,
    p99: float = 10.0,
    violations: int | None = 0,
    commits: int = 100,
    conflicts: int = 0,
) -> dict[str, Any]:
    return {
        "scenario": "counter",
        "strategy": strategy,
        "isolation": isolation,
        "executor": "threads",
        "workers": workers,
        "duration_s": 1.0,
        "attempts": commits + conflicts,
        "commits": commits,
        "retries": conflicts,
        "failures": 0,
        "conflicts": {k: (conflicts if k == "serialization_failure" else 0) for k in CONFLICTS},
        "violations": violations,
        "invariant": "final points == committed increments",
        "throughput": throughput,
        "latency_ms": {"p50": p50, "p95": p99 / 2, "p99": p99, "max": p99 * 2},
        "verdict": "no anomaly" if not violations else f"lost {violations} updates",
        "finding": "counter checked",
    }


def sweep_cell(
    strategy: str, isolation: str, workers: int, runs: list[float], p99s: list[float], **kw
) -> dict:
    """A sweep cell whose runs had these throughputs and p99s (median = the middle value)."""
    cell = race_cell(
        strategy, isolation, workers, sorted(runs)[len(runs) // 2], p99=sorted(p99s)[len(p99s) // 2], **kw
    )
    cell["repeats"] = len(runs)
    cell["spread"] = {
        "throughput": {"values": runs, "median": cell["throughput"], "min": min(runs), "max": max(runs)},
        "p99_ms": {"values": p99s, "median": cell["latency_ms"]["p99"], "min": min(p99s), "max": max(p99s)},
    }
    return cell


def document(cells: list[dict], *, kind: str | None = None, repeats: int | None = None, **extra) -> dict:
    params: dict[str, Any] = {
        "scenario": "counter",
        "strategies": list(dict.fromkeys(c["strategy"] for c in cells)),
        "isolations": list(dict.fromkeys(c["isolation"] for c in cells)),
        "workers": sorted({c["workers"] for c in cells}),
        "executor": "threads",
        "duration_s": 1.0,
        "ops": None,
        "max_tries": 10,
    }
    if repeats is not None:
        params["repeats"] = repeats
    doc = {
        "concord_version": "0.1.0",
        "started_at": "2026-11-22T03:00:00Z",
        "database": {"server_version": "18.4", "settings": {"fsync": "on", "max_connections": "300"}},
        "parameters": params,
        "interrupted": False,
        "cells": cells,
        **extra,
    }
    if kind:
        doc = {"kind": kind, **doc}
    return doc


def a_sweep(**kw) -> dict:
    """Two strategies x two isolation levels x workers 1, 4, 16; three runs per cell."""
    factor = {
        ("none", "read committed"): 100.0,
        ("none", "serializable"): 70.0,
        ("pessimistic", "read committed"): 50.0,
        ("pessimistic", "serializable"): 30.0,
    }
    cells = [
        sweep_cell(s, i, w, [factor[(s, i)] * w + d for d in (-10, 0, 10)], [w + 1.0, w + 2.0, w + 3.0], **kw)
        for s, i in factor
        for w in (1, 4, 16)
    ]
    return document(cells, kind="sweep", repeats=3)


def write(path: Path, doc: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc) if not isinstance(doc, str) else doc)
    return path
