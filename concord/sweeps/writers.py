"""A sweep on disk: ``results/<stamp>-sweep-<scenario>.json``, ``.csv`` (one row per cell, with
the spread) and ``.md`` (the report page without its charts). No trace log: a sweep keeps each
run's numbers, and ``concord race`` is the tool for looking at one cell's attempts.
"""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path
from typing import Any

from concord.race.results import CONFLICT_KEYS
from concord.race.waits.describe import top_wait
from concord.sweeps.runner import SweepResult

CSV_FIELDS = (
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


def write_sweep(result: SweepResult, out_dir: str | Path = ".") -> dict[str, str]:
    """Write the JSON document, the CSV and the Markdown under ``out_dir/results``; return the paths.

    ``result`` is left as it was: the document written is ``result`` with these ``files``.
    """
    from concord.reports.files import Write, json_text, text, write_run
    from concord.reports.page import markdown
    from concord.reports.report import build_page

    results_dir = Path(out_dir) / "results"
    places = {kind: (results_dir, f".{kind}") for kind in ("json", "csv", "md")}

    def render(files: dict[str, str]) -> dict[str, Write]:
        document = replace(result, files=files).document()
        return {
            "json": json_text(document),
            "csv": lambda path: write_csv(path, document["cells"]),
            "md": text(markdown(build_page(document, charts=False))),
        }

    name = f"sweep-{result.parameters.get('scenario', 'race')}"
    return write_run(name, result.started_at, places, render, result.document)


def csv_row(cell: dict[str, Any]) -> dict[str, Any]:
    spread = cell["spread"]
    row = {k: cell.get(k) for k in CSV_FIELDS if k in cell}
    row.update({k: cell["conflicts"].get(k, 0) for k in CONFLICT_KEYS})
    for measure in ("throughput", "p99_ms"):
        row.update({f"{measure}_{k}": spread[measure][k] for k in ("median", "min", "max")})
    row["p50_ms_median"] = spread["p50_ms"]["median"]
    waits = cell.get("waits")
    row["top_wait"] = top_wait(waits) if waits else None
    row["lock_share"] = waits.get("groups", {}).get("lock", 0.0) if waits else None
    return row


def write_csv(path: Path, cells: list[dict[str, Any]]) -> None:
    with path.open("w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, extrasaction="ignore")
        writer.writeheader()
        for cell in cells:
            writer.writerow(csv_row(cell))
