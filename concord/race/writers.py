"""Results on disk: ``results/<stamp>-<scenario>.json``, ``.csv`` and ``.md``, and the attempt
traces as JSON Lines in ``logs/<stamp>-<scenario>.jsonl``.

Traces are bounded: each worker keeps its first ``cap_per_worker`` attempts of a cell
(``TRACE_LINES_PER_CELL`` shared out between the workers, 20,000 by default), and the rest are
only counted (``trace.dropped`` in the cell). A 50-worker run therefore writes at most about
20,000 lines (a few MB) per cell, whatever its length.
"""

from __future__ import annotations

import json
from pathlib import Path

from concord.race.results import CellResult, RaceResult
from concord.reports import table
from concord.reports.cells import RACE_CSV, RACE_MARKDOWN, per_cell_unit
from concord.reports.store import kept_on_failure
from concord.reports.table import CellTable
from concord.reports.waits import markdown_lines

TRACE_FIELDS = ("worker", "op", "attempt", "start", "end", "outcome", "sqlstate")
CSV_FIELDS = tuple(c.key for c in RACE_CSV)


def write_results(result: RaceResult, out_dir: str | Path = ".") -> dict[str, str]:
    """Write the four files under ``out_dir/results`` and ``out_dir/logs``; return their paths."""
    out = Path(out_dir)
    stamp = result.started_at.replace(":", "").replace("-", "").replace("Z", "")
    scenario = result.parameters.get("scenario", "race")
    results_dir, logs_dir = out / "results", out / "logs"
    base = f"{stamp}Z-{scenario}"
    paths = {
        "json": results_dir / f"{base}.json",
        "csv": results_dir / f"{base}.csv",
        "md": results_dir / f"{base}.md",
        "traces": logs_dir / f"{base}.jsonl",
    }
    result.files = {kind: str(path) for kind, path in paths.items()}
    for index, cell in enumerate(result.cells):
        cell.trace["file"] = str(paths["traces"])
        cell.trace["cell"] = index
    with kept_on_failure(result.document, base):
        results_dir.mkdir(parents=True, exist_ok=True)
        logs_dir.mkdir(parents=True, exist_ok=True)
        write_traces(paths["traces"], result)
        paths["json"].write_text(json.dumps(result.document(), indent=2) + "\n")
        write_csv(paths["csv"], result.cells)
        paths["md"].write_text(markdown(result))
    return result.files


def write_traces(path: Path, result: RaceResult) -> None:
    with path.open("w") as out:
        for index, traces in enumerate(result.traces):
            cell = result.cells[index]
            for worker, op, attempt, start, end, outcome, state in traces:
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
