"""The `concord` command: a root Typer app with one sub-app (or command) per noun.

The error policy lives in `main()`: a typed concord error becomes one line on stderr and a
documented exit code; a traceback is shown only with CONCORD_DEBUG=1.

Exit codes: 0 success, 1 error (not found, database trouble), 2 usage (a bad value, whoever finds
it), 3 conflict (stale version, lock held, already assigned, serialization failure), 130 interrupted.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import typer

from concord.cli import anomalies, board, db, list_, serve, task, user
from concord.cli import history as history_cli
from concord.cli import race as race_cli
from concord.cli import results as results_cli
from concord.cli import spec as spec_cli
from concord.cli import sweep as sweep_cli
from concord.cli.calibrate import calibrate_command
from concord.cli.errors import run_with_error_policy
from concord.cli.explain import explain as explain_command
from concord.cli.plot import plot as plot_command
from concord.cli.report import report as report_command
from concord.cli.scenarios import scenarios as scenarios_command
from concord.cli.seed import seed_command


def _flags_show_no_type() -> None:
    """Typer's help gives every option a type column, flags too (``--json <bool>``), as if a flag
    took a value; a flag's column stays empty here, as in click's own help."""
    from typer.core import TyperOption

    typed = TyperOption.display_type_rich

    def display_type_rich(self: TyperOption, ctx: Any) -> str | None:
        return None if self.is_flag else typed(self, ctx)

    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign]


_flags_show_no_type()

app = typer.Typer(
    name="concord",
    help="A concurrency lab for PostgreSQL: a task board, race experiments, anomaly proofs and query plans.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    # Markdown: a docstring's paragraph is one paragraph, however its source lines break, and
    # `code` reads as code.
    rich_markup_mode="markdown",
)


def _print_version(asked: bool) -> None:
    if asked:
        from concord import __version__

        typer.echo(f"concord {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    database_url: str | None = typer.Option(
        None,
        "--database-url",
        help="PostgreSQL URL for every subcommand (same as CONCORD_DATABASE_URL).",
        show_default=False,
    ),
    version: bool = typer.Option(
        False, "--version", help="Print concord's version and exit.", is_eager=True, callback=_print_version
    ),
) -> None:
    """A concurrency lab for PostgreSQL."""
    if database_url:
        # Subcommands read their --database-url from this variable when not given one themselves.
        os.environ["CONCORD_DATABASE_URL"] = database_url


app.add_typer(db.app, name="db")
app.add_typer(board.app, name="board")
app.add_typer(list_.app, name="list")
app.add_typer(task.app, name="task")
app.add_typer(user.app, name="user")
app.command("race")(race_cli.race)
app.command("scenarios")(scenarios_command)
app.command("calibrate")(calibrate_command)
app.command("sweep")(sweep_cli.sweep)
app.command("plot")(plot_command)
app.command("report")(report_command)
app.add_typer(results_cli.app, name="results")
app.command("serve")(serve.serve)
app.command("anomalies")(anomalies.prove)
app.command("seed")(seed_command)
app.command("explain")(explain_command)
app.add_typer(spec_cli.app, name="spec")
history_cli.app.command("check")(history_cli.check)
history_cli.app.command("shrink")(history_cli.shrink_command)
app.add_typer(history_cli.app, name="history")


def main(argv: list[str] | None = None) -> None:
    """Entry point of the console script and of ``python -m concord``."""
    sys.exit(run_with_error_policy(app, argv))
