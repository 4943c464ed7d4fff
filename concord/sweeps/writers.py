"""A sweep on disk: ``results/<stamp>-sweep-<scenario>.json``, ``.csv`` (one row per cell, with
the spread) and ``.md`` (the report page without its charts). No trace log: a sweep keeps each
run's numbers, and ``concord race`` is the tool for looking at one cell's attempts.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from concord.reports import table
from concord.reports.cells import SWEEP_CSV
from concord.reports.table import CellTable
from concord.sweeps.runner import SweepResult

CSV_FIELDS = tuple(c.key for c in SWEEP_CSV)


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
    """One cell as its CSV row: raw values by column (`concord.reports.cells.SWEEP_CSV`)."""
    [row] = CellTable.of(SWEEP_CSV, [cell]).values()
    return row


def write_csv(path: Path, cells: list[dict[str, Any]]) -> None:
    with path.open("w", newline="") as out:
        table.write_csv(out, CellTable.of(SWEEP_CSV, cells))
