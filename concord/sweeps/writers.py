"""A sweep on disk: ``results/<stamp>-sweep-<scenario>.json``, ``.csv`` (one row per cell, with
the spread) and ``.md`` (the report page without its charts). No trace log: a sweep keeps each
run's numbers, and ``concord race`` is the tool for looking at one cell's attempts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from concord.reports import table
from concord.reports.cells import SWEEP_CSV
from concord.reports.table import CellTable
from concord.sweeps.runner import SweepResult

CSV_FIELDS = tuple(c.key for c in SWEEP_CSV)


def write_sweep(result: SweepResult, out_dir: str | Path = ".") -> dict[str, str]:
    """Write the JSON document, the CSV and the Markdown under ``out_dir/results``; return the paths."""
    from concord.reports.page import markdown
    from concord.reports.report import build_page
    from concord.reports.store import kept_on_failure

    results_dir = Path(out_dir) / "results"
    stamp = result.started_at.replace(":", "").replace("-", "")
    base = results_dir / f"{stamp}-sweep-{result.parameters.get('scenario', 'race')}"
    paths = {kind: base.with_suffix(f".{kind}") for kind in ("json", "csv", "md")}
    result.files = {kind: str(path) for kind, path in paths.items()}
    document = result.document()
    with kept_on_failure(lambda: document, base.name):
        results_dir.mkdir(parents=True, exist_ok=True)
        paths["json"].write_text(json.dumps(document, indent=2) + "\n")
        write_csv(paths["csv"], document["cells"])
        paths["md"].write_text(markdown(build_page(document, charts=False)))
    return result.files


def csv_row(cell: dict[str, Any]) -> dict[str, Any]:
    """One cell as its CSV row: raw values by column (`concord.reports.cells.SWEEP_CSV`)."""
    [row] = CellTable.of(SWEEP_CSV, [cell]).values()
    return row


def write_csv(path: Path, cells: list[dict[str, Any]]) -> None:
    with path.open("w", newline="") as out:
        table.write_csv(out, CellTable.of(SWEEP_CSV, cells))
