"""`concord spec run`: PostgreSQL isolation specs, printed as isolationtester prints them."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

import concord
from concord.cli.common import DatabaseUrl, Json, error_console, render
from concord.cli.errors import EXIT_ERROR, UsageError
from concord.errors import InvalidInput
from concord.spec import PlannedSpec, SpecOutcome, plan, run_specs

app = typer.Typer(
    help="Run PostgreSQL isolation test specs (isolationtester's language).", no_args_is_help=True
)

Files = Annotated[
    list[Path], typer.Argument(help="Spec files (.spec).", metavar="FILE.spec", show_default=False)
]
Expected = Annotated[
    Path | None,
    typer.Option(
        "--expected",
        help="Expected output: a .out file, or a directory with NAME.out (and NAME_1.out ...) files.",
        show_default=False,
    ),
]
StepTimeout = Annotated[
    float | None,
    typer.Option(
        "--step-timeout",
        min=0.01,
        help="Seconds before a step that nothing explains is cancelled (isolationtester's "
        "max_step_wait: 2 x PG_TEST_TIMEOUT_DEFAULT, 360 by default).",
        show_default=False,
    ),
]


@app.command("run")
def run(
    files: Files,
    expected: Expected = None,
    step_timeout: StepTimeout = None,
    database_url: DatabaseUrl = None,
    as_json: Json = False,
) -> None:
    """Run each spec in a fresh database and print its output as isolationtester would.

    With --expected, print one line per spec and the unified diff of any that differs. Exits 1 when
    a spec differs from its expected output or was given up (isolationtester would exit 1), 2 for a
    spec that does not parse.
    """
    try:
        planned = plan(files, expected)
    except InvalidInput as exc:
        raise UsageError(exc.message) from exc
    streaming = not as_json and expected is None
    outcomes = run_specs(
        planned,
        database_url=database_url,
        step_timeout=step_timeout,
        echo=_write if streaming else None,
        on_start=(lambda item: _announce(item, len(planned))) if streaming else None,
    )
    document = {"version": concord.__version__, "specs": [outcome.as_dict() for outcome in outcomes]}
    render(document, as_json=as_json, human=lambda _console: _report(outcomes))
    if not all(outcome.ok for outcome in outcomes):
        raise typer.Exit(EXIT_ERROR)


def _write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def _announce(item: PlannedSpec, total: int) -> None:
    # Only stdout carries the spec's own output, so several specs stay comparable one by one.
    if total > 1:
        error_console().print(f"== {item.path}", style="dim", soft_wrap=True)


def _report(outcomes: list[SpecOutcome]) -> None:
    errors = error_console()
    for outcome in outcomes:
        if outcome.skipped:
            errors.print(f"skipped {outcome.path}: {outcome.skipped}", soft_wrap=True, markup=False)
        elif outcome.comparison is not None:
            same = outcome.comparison.identical
            _write(f"{'ok' if same else 'differs'} {outcome.path} ({outcome.comparison.expected})\n")
            _write(outcome.comparison.diff)
        elif outcome.transcript.aborted:
            # The reason is in the output too; stderr says why the exit code is 1.
            errors.print(
                f"given up {outcome.path}: {outcome.transcript.aborted}", soft_wrap=True, markup=False
            )
    compared = [outcome.comparison for outcome in outcomes if outcome.comparison is not None]
    if compared:
        identical = sum(comparison.identical for comparison in compared)
        skipped = sum(1 for outcome in outcomes if outcome.skipped)
        specs = f"{len(outcomes)} spec{'' if len(outcomes) == 1 else 's'}"
        summary = f"{specs}: {identical} identical, {len(compared) - identical} differ, {skipped} skipped"
        errors.print(summary, style="dim", soft_wrap=True)
