"""`concord history`: check an Elle history (list-append, rw-register) and shrink it to a cycle.

Exit codes: 0 the history is valid, 1 it is not (or the check could not finish: "unknown"), as
elle-cli; 2 the history is malformed or the options are wrong (never reported as an anomaly).
"""

from __future__ import annotations

import json
import sys
from contextlib import nullcontext
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from concord.cli.common import Json, error_console, render
from concord.cli.errors import EXIT_ERROR, UsageError
from concord.history import CheckResult, MalformedHistory, check_history, load_history, parse_json
from concord.history.render import to_dot, to_mermaid

app = typer.Typer(help="Check transaction histories like Jepsen's Elle.", no_args_is_help=True)

HistoryFile = Annotated[
    Path,
    typer.Argument(help="An Elle history: a JSON array of operations, or JSON Lines.", show_default=False),
]
Model = Annotated[str, typer.Option("--model", "-m", help="list-append or rw-register.")]
Models = Annotated[
    str,
    typer.Option(
        "--consistency-models",
        help="Models the history should obey (comma-separated); anomalies they allow do not make it invalid.",
    ),
]
#: Cycles explained in full on the terminal; --json has them all.
SHOWN_CYCLES = 5


def check(
    file: HistoryFile,
    model: Model = "list-append",
    consistency_models: Models = "strict-serializable",
    dot: Annotated[
        Path | None,
        typer.Option("--dot", help="Write the cycles found as a Graphviz DOT file.", show_default=False),
    ] = None,
    mermaid: Annotated[
        bool, typer.Option("--mermaid", help="Print the cycles as a Mermaid flowchart instead.")
    ] = False,
    as_json: Json = False,
) -> None:
    """Infer version orders, build the dependency graph, find and explain its cycles."""
    result = run_check(file, model, consistency_models, progress=not as_json)
    if dot is not None:
        dot.write_text(to_dot(result.cycles), encoding="utf-8")
    if mermaid:
        sys.stdout.write(to_mermaid(result.cycles))
    else:
        render(result.document(), as_json=as_json, human=lambda console: print_result(console, file, result))
    if result.valid is not True:
        raise typer.Exit(EXIT_ERROR)


def run_check(file: Path, model: str, consistency_models: str, *, progress: bool) -> CheckResult:
    """Load and check ``file``; a malformed history is a usage error (exit 2)."""
    console = error_console()
    status = console.status("reading the history") if progress and console.is_terminal else nullcontext()
    try:
        with status as shown:
            history = load_history(file, model)
            stage = shown.update if shown is not None else None
            models = [m.strip() for m in consistency_models.split(",") if m.strip()]
            return check_history(history, consistency_models=models, stage=stage)
    except MalformedHistory as exc:
        raise UsageError(exc.message) from exc


def print_result(console: Console, file: Path, result: CheckResult) -> None:
    document = result.document()
    verdicts: dict[bool | str, str] = {True: "[green]valid[/]", False: "[red]not valid[/]"}
    verdict = verdicts.get(result.valid, "[yellow]unknown[/]")
    stats = result.stats
    console.print(
        f"{file}: {verdict} ({result.model}, {stats['transactions']:,} transactions, "
        f"{stats['edges']:,} dependencies, checked in {stats['seconds']:.2f} s)"
    )
    if not result.anomalies:
        return
    table = Table("anomaly", "found", box=None)
    for kind in document["anomaly-types"]:
        table.add_row(kind, f"{len(result.anomalies[kind]):,}")
    console.print(table)
    console.print(f"not: {', '.join(document['not'])}", markup=False)
    console.print(f"also not: {', '.join(document['also-not'])}", markup=False)
    for cycle in result.cycles[:SHOWN_CYCLES]:
        console.print()
        console.print(cycle.case()["explanation"], markup=False, highlight=False)
    if len(result.cycles) > SHOWN_CYCLES:
        console.print(f"\n({len(result.cycles) - SHOWN_CYCLES:,} more cycles in --json)")


def shrink_command(
    file: HistoryFile,
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the reproduction (Elle JSON).")],
    model: Model = "list-append",
    kind: Annotated[
        str | None,
        typer.Option(
            "--type", help="The cycle type to keep (G2-item, G-single, ...); default: the first found."
        ),
    ] = None,
) -> None:
    """Cut a history down to the transactions of one cycle (a minimal reproduction)."""
    from concord.history.shrink import shrink

    try:
        ops = parse_json(_read(file), str(file))
        shrunk = shrink(ops, model, kind)
    except MalformedHistory as exc:
        raise UsageError(exc.message) from exc
    out.write_text("[\n" + ",\n".join(json.dumps(op) for op in shrunk.ops) + "\n]\n", encoding="utf-8")
    console = error_console()
    console.print(f"kept {shrunk.kept:,} of {shrunk.of:,} transactions in {out}", markup=False)
    console.print(shrunk.cycle.case()["explanation"], markup=False, highlight=False)


def _read(file: Path) -> str:
    try:
        return file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise MalformedHistory(f"cannot read {file}: {exc}") from exc
