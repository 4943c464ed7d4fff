"""`concord anomalies`: the isolation-anomaly matrix, and the transcript behind any cell."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console, Group
from rich.progress import Progress
from rich.table import Table
from rich.text import Text

import concord
from concord.anomalies import (
    DEFAULT_STEP_TIMEOUT_S,
    Cell,
    Level,
    SuiteResult,
    Verdict,
    explain,
    planned_cells,
    run_suite,
    suite_document,
    write_results,
)
from concord.anomalies.transcript import Outcome, StepRecord
from concord.cli.common import DatabaseUrl, Json, error_console, render
from concord.cli.errors import EXIT_ERROR, UsageError
from concord.errors import InvalidInput
from concord.nouns import count
from concord.reports.files import check_writable

Only = Annotated[
    str | None,
    typer.Option(
        "--only",
        help="Comma-separated anomaly ids, or id/variant: P4,G2-item,G-single/predicate read.",
        show_default=False,
    ),
]
IsolationLevels = Annotated[
    str | None,
    typer.Option(
        "--isolation",
        help='Comma-separated levels: "read uncommitted", "read committed", "repeatable read", '
        '"serializable" (default: all four).',
        show_default=False,
    ),
]
ExplainId = Annotated[
    str | None,
    typer.Option(
        "--explain",
        help="Print the step-by-step transcript of this anomaly (id or id/variant) and why.",
        show_default=False,
    ),
]
StepTimeout = Annotated[
    float,
    typer.Option(
        "--step-timeout", min=0.01, help="Seconds a step may wait for something the script does not provide."
    ),
]
OutDir = Annotated[Path, typer.Option("--out", help="Write results/ under this directory (as race does).")]

_VERDICT_STYLE = {Verdict.PREVENTED: "green", Verdict.POSSIBLE: "bold red", Verdict.ERROR: "bold yellow"}


def prove(
    only: Only = None,
    isolation: IsolationLevels = None,
    explain_id: ExplainId = None,
    step_timeout: StepTimeout = DEFAULT_STEP_TIMEOUT_S,
    out: OutDir = Path("."),
    database_url: DatabaseUrl = None,
    as_json: Json = False,
) -> None:
    """Prove each isolation level's guarantees: scripted anomalies (G0 ... G2) on live sessions.

    Prints the matrix of verdicts, or with --explain the transcript behind cells. Exits 1 when a
    cell could not be decided (a step timed out or failed unexpectedly).
    """
    if explain_id and only:
        raise UsageError("give --explain or --only, not both")
    names, levels = _split(explain_id or only), _split(isolation)
    total = _check_names(names, levels)
    check_writable(out / "results")  # before the suite, not after its last cell
    result = _run_with_progress(
        total,
        lambda on_cell: run_suite(
            database_url, only=names, isolations=levels, step_timeout=step_timeout, on_cell=on_cell
        ),
    )
    document = suite_document(result, version=concord.__version__)
    path = write_results(document, out / "results")
    human = (lambda c: _print_transcripts(c, result)) if explain_id else (lambda c: c.print(matrix(result)))
    render(document, as_json=as_json, human=human)
    # The time as the file has it (rounded there): the raw float could round the other way.
    summary = f"{count(len(result.cells), 'cell')} in {document['seconds']:.1f}s; results written to {path}"
    error_console().print(summary, style="dim", soft_wrap=True)
    if any(cell.verdict is Verdict.ERROR for cell in result.cells):
        raise typer.Exit(EXIT_ERROR)


def _split(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _check_names(names: list[str], levels: list[str]) -> int:
    """Bad names are usage errors (exit 2), found before any session is opened."""
    try:
        return planned_cells(names, levels)
    except InvalidInput as exc:
        raise UsageError(exc.message) from exc


def _run_with_progress(total: int, run: Callable[[Callable[[Cell], None]], SuiteResult]) -> SuiteResult:
    with Progress(console=error_console(), transient=True) as progress:
        task = progress.add_task("running anomaly scripts", total=total)
        return run(lambda cell: progress.advance(task))


def matrix(result: SuiteResult) -> Table:
    """Rows anomaly/variant, one column per level; each cell its verdict and how."""
    levels = list(dict.fromkeys(cell.isolation for cell in result.cells))
    version = result.database.get("server_version", "?")
    table = Table(title=f"Isolation anomalies on PostgreSQL {version}", title_justify="left")
    table.add_column("anomaly")
    for level in levels:
        # "read uncommitted" is the widest header: let it take two lines on narrow terminals.
        table.add_column(level.value.replace(" ", "\n") if level is Level.READ_UNCOMMITTED else level.value)
    rows: dict[tuple[str, str], dict[Level, Cell]] = {}
    for cell in result.cells:
        rows.setdefault((cell.anomaly, cell.variant), {})[cell.isolation] = cell
    for (anomaly, variant), by_level in rows.items():
        label = Text.assemble((anomaly, "bold"), "\n", (variant, "dim"))
        table.add_row(label, *(_verdict_text(by_level.get(level)) for level in levels))
    table.caption = "concord anomalies --explain ID --isolation LEVEL shows the transcript behind a cell"
    return table


def _verdict_text(cell: Cell | None) -> Text:
    if cell is None:
        return Text("-")
    text = Text(cell.verdict.value, style=_VERDICT_STYLE[cell.verdict])
    if cell.prevented_by:
        text.append(f"\n{', '.join(cell.prevented_by)}", style="dim")
    return text


def _print_transcripts(console: Console, result: SuiteResult) -> None:
    for cell in result.cells:
        console.print(transcript_view(cell))
        console.print()


def transcript_view(cell: Cell) -> Group:
    """One cell's header, its steps as a table, and the two lines of why."""
    how = f" ({', '.join(cell.prevented_by)})" if cell.prevented_by else ""
    header = Text.assemble(
        (f"{cell.anomaly} / {cell.variant}", "bold"),
        f" at {cell.isolation}: ",
        (cell.verdict.value, _VERDICT_STYLE[cell.verdict]),
        how,
    )
    steps = Table("#", "session", "statement", "result", "notes", box=None, padding=(0, 1))
    for record in cell.transcript.records:
        steps.add_row(
            str(record.index), record.session, _statement(record), _result(record), _notes(record, cell)
        )
    first, second = explain(cell)
    return Group(header, steps, Text(first), Text(second, style="italic"))


def _statement(record: StepRecord) -> str:
    return record.sql if record.params is None else f"{record.sql}  -- params {tuple(record.params)}"


def _result(record: StepRecord) -> Text:
    if record.outcome is Outcome.FAILED:
        return Text(f"ERROR {record.sqlstate}: {record.error}", style="red")
    if record.outcome is not Outcome.OK:
        return Text(record.outcome.value, style="dim")
    if record.rows is None:
        return Text(record.command or "")
    shown = "; ".join(_row(record.columns or [], row) for row in record.rows) or "no rows"
    return Text(shown if (record.command or "").startswith("SELECT") else f"{record.command}: {shown}")


def _row(columns: list[str], row: list[Any]) -> str:
    return ", ".join(f"{name}={value}" for name, value in zip(columns, row, strict=False))


def _notes(record: StepRecord, cell: Cell) -> Text:
    parts = []
    if record.blocked:
        parts.append(f"blocked on {' and '.join(record.blocked_by)}")
        if record.released_by is not None:
            release = cell.transcript.records[record.released_by - 1]
            parts.append(f"released by step {release.index} ({release.session} {release.sql})")
    if record.note:
        parts.append(record.note)
    return Text("; ".join(parts), style="yellow" if record.blocked else "dim")
