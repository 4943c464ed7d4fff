"""Results on disk: ``results/<stamp>-<scenario>.json``, ``.csv`` and ``.md``, and the attempt
traces as JSON Lines in ``logs/<stamp>-<scenario>.jsonl``.

Traces are bounded: each worker keeps its first ``cap_per_worker`` attempts of a cell
(``TRACE_LINES_PER_CELL`` shared out between the workers, 20,000 by default), and the rest are
only counted (``trace.dropped`` in the cell). A 50-worker run therefore writes at most about
20,000 lines (a few MB) per cell, whatever its length.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from concord.race.results import CellResult, RaceResult
from concord.reports import table
from concord.reports.cells import RACE_CSV, RACE_MARKDOWN, per_cell_unit
from concord.reports.files import Write, json_text, text, write_run
from concord.reports.table import CellTable
from concord.reports.waits import markdown_lines

TRACE_FIELDS = ("worker", "op", "attempt", "start", "end", "outcome", "sqlstate")
CSV_FIELDS = tuple(c.key for c in RACE_CSV)


def write_results(result: RaceResult, out_dir: str | Path = ".") -> dict[str, str]:
    """Write the four files under ``out_dir/results`` and ``out_dir/logs``; return their paths.

    ``result`` is left as it was: the JSON document written is ``result`` with these ``files``
    (`dataclasses.replace(result, files=...)` gives the same document for ``--json``).
    """
    out = Path(out_dir)
    results_dir, logs_dir = out / "results", out / "logs"
    places = {
        "json": (results_dir, ".json"),
        "csv": (results_dir, ".csv"),
        "md": (results_dir, ".md"),
        "traces": (logs_dir, ".jsonl"),
    }

    def render(files: dict[str, str]) -> dict[str, Write]:
        return {
            "traces": lambda path: write_traces(path, result),
            "json": json_text(replace(result, files=files).document()),
            "csv": lambda path: write_csv(path, result.cells),
            "md": text(markdown(result)),
        }

    return write_run(
        result.parameters.get("scenario", "race"), result.started_at, places, render, result.document
    )


def write_traces(path: Path, result: RaceResult) -> None:
    with path.open("w") as out:
        for index, cell in enumerate(result.cells):
            for worker, op, attempt, start, end, outcome, state in cell.traces:
                out.write(
                    json.dumps(
                        {
                            "cell": index,
                            "strategy": cell.strategy,
                            "isolation": cell.isolation,
                            "workers": cell.workers,
                            "worker": worker,
                            "op": op,
                            "attempt": attempt,
                            "start": round(start, 6),
                            "end": round(end, 6),
                            "outcome": outcome,
                            "sqlstate": state,
                        }
                    )
                    + "\n"
                )


def csv_row(cell: CellResult) -> dict[str, object]:
    """One cell as its CSV row: raw values by column (`concord.reports.cells.RACE_CSV`)."""
    [row] = CellTable.of(RACE_CSV, [cell]).values()
    return row


def write_csv(path: Path, cells: list[CellResult]) -> None:
    with path.open("w", newline="") as out:
        table.write_csv(out, CellTable.of(RACE_CSV, cells))


def markdown(result: RaceResult) -> str:
    params = result.parameters
    lines = [
        f"# concord race: {params.get('scenario')}",
        "",
        f"Started {result.started_at} on PostgreSQL {result.database.get('server_version')}, "
        f"executor {params.get('executor')}"
        + (f" ({params['event_loop']})" if params.get("event_loop") else "")
        + ", "
        + per_cell_unit(params)
        + (". **Interrupted**: partial results." if result.interrupted else "."),
        "",
        f"Invariant: {result.cells[0].invariant}." if result.cells else "No cell ran.",
        "",
        *table.markdown_lines(CellTable.of(RACE_MARKDOWN, result.cells))[:-1],
    ]
    if result.error:
        lines += ["", f"Error: {result.error}"]
    waits = markdown_lines(result.document())
    if waits:
        lines += ["", *waits]
    lines += [
        "",
        "Traces: the first attempts of each worker per cell, as JSON Lines (see the `trace` key of each "
        "cell in the JSON document for the cap and how many were dropped).",
        "",
    ]
    return "\n".join(lines)
