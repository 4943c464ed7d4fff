"""Two anomalies results, or two calibrate results, side by side (races and sweeps: `compare`).

Anomalies match on (anomaly, variant, isolation) and compare their verdicts. Calibrations match
on (workers, executor) and compare the median concord/pgbench ratio; as for races, a change is
*within spread* when the per-round ratios of A and B overlap (see `concord.reports.compare`).
"""

from __future__ import annotations

import statistics
from typing import Any

from concord.reports.compare import spread_note


def compare_anomalies(a: dict[str, Any], b: dict[str, Any], *, names: tuple[str, str]) -> dict[str, Any]:
    """Every cell both runs have, with both verdicts and whether they differ; what only one has."""
    cells_a, cells_b = _keyed(a["cells"], _anomaly_key), _keyed(b["cells"], _anomaly_key)
    cells = [
        {
            "anomaly": key[0],
            "variant": key[1],
            "isolation": key[2],
            "verdict_a": cell["verdict"],
            "verdict_b": cells_b[key]["verdict"],
            "changed": cell["verdict"] != cells_b[key]["verdict"],
        }
        for key, cell in cells_a.items()
        if key in cells_b
    ]
    return {"kind": "anomalies", "a": names[0], "b": names[1], "cells": cells, **_only(cells_a, cells_b)}


def compare_calibrations(a: dict[str, Any], b: dict[str, Any], *, names: tuple[str, str]) -> dict[str, Any]:
    """Every (workers, executor) both runs have: the median ratio in each, the change, the spread."""
    rows_a, rows_b = _keyed(a["rows"], _row_key), _keyed(b["rows"], _row_key)
    rows = []
    for key, row in rows_a.items():
        if key not in rows_b:
            continue
        ratios_a, ratios_b = _ratios(row), _ratios(rows_b[key])
        ratio_a, ratio_b = _median(ratios_a), _median(ratios_b)
        change = None if ratio_a is None or ratio_b is None else round(ratio_b - ratio_a, 3)
        rows.append(
            {
                "workers": key[0],
                "executor": key[1],
                "ratio_a": ratio_a,
                "ratio_b": ratio_b,
                "change": change,
                "note": spread_note(ratio_a, ratio_b, _range(ratios_a), _range(ratios_b)),
            }
        )
    return {"kind": "calibrate", "a": names[0], "b": names[1], "rows": rows, **_only(rows_a, rows_b)}


def _anomaly_key(cell: dict[str, Any]) -> tuple[str, str, str]:
    return (cell["anomaly"], cell["variant"], cell["isolation"])


def _row_key(row: dict[str, Any]) -> tuple[int, str]:
    return (int(row["workers"]), row["executor"])


def _keyed(entries: list[dict[str, Any]], key) -> dict[tuple, dict[str, Any]]:
    return {key(entry): entry for entry in entries}


def _only(a: dict[tuple, Any], b: dict[tuple, Any]) -> dict[str, list[list[Any]]]:
    return {"only_in_a": [list(k) for k in a if k not in b], "only_in_b": [list(k) for k in b if k not in a]}


def _ratios(row: dict[str, Any]) -> list[float]:
    if row.get("ratios"):
        return [float(r) for r in row["ratios"]]
    return [c / p for c, p in zip(row["concord_tps"], row["pgbench_tps"], strict=False) if p > 0]


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 3) if values else None


def _range(values: list[float]) -> tuple[float, float] | None:
    return (min(values), max(values)) if len(values) > 1 else None
