"""`concord seed`: bulk-load realistic, skewed data through COPY, then ANALYZE."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from concord.cli.common import DatabaseUrl, Json, Yes, confirm_deletion, error_console, render
from concord.cli.db import EVERYTHING
from concord.cli.errors import UsageError
from concord.seed import DatabaseNotEmpty, ExistingData, SeedPlan, Space, Step, plan_total, seed

# What the bar says in each phase, before the table, index or key it is on.
PHASES = {"copy": "copy", "analyze": "analyze", "indexes": "index", "keys": "foreign key"}


def _count(help_: str):
    return typer.Option(min=0, show_default=True, help=help_)


def seed_command(
    boards: Annotated[int, _count("Boards to create.")] = SeedPlan.boards,
    lists_per_board: Annotated[int, _count("Lists on each board.")] = SeedPlan.lists_per_board,
    tasks: Annotated[int, _count("Tasks, spread over the lists with a Zipf-like skew.")] = SeedPlan.tasks,
    users: Annotated[int, _count("Users; a quarter of the tasks stay unassigned.")] = SeedPlan.users,
    seed_: Annotated[
        int, typer.Option("--seed", min=0, help="Random seed (0 or more): the same seed gives the same rows.")
    ] = SeedPlan.seed,
    append: Annotated[bool, typer.Option("--append", help="Add to the data already there.")] = False,
    reset: Annotated[
        bool, typer.Option("--reset", help="Delete every board, list, task, user and activity entry first.")
    ] = False,
    yes: Yes = False,
    database_url: DatabaseUrl = None,
    as_json: Json = False,
) -> None:
    """Load boards, lists, tasks (skewed across lists, assignees and statuses), users and one
    activity entry per task through binary COPY, then ANALYZE.

    A database that already holds data is refused unless you pass --append (new rows are numbered
    after the existing ones; indexes and foreign keys stay in place, so it is slower) or --reset
    (every concord table is truncated first, in the same transaction as the load; it asks first,
    or takes --yes, like `db reset`). Into empty tables the indexes and key constraints are
    dropped and rebuilt after the COPY, and the tables analyzed, in the same transaction (an
    interrupted or failed seed leaves nothing behind). On a terminal it says first how much space
    the seed takes, and shows its progress phase by phase. Exit codes: 0 loaded, 1 error (the
    server's disk is too small, among others), 2 bad options or data already there, 3 a table was
    locked for over 5 s.
    """
    if append and reset:
        raise UsageError("choose one of --append and --reset")
    if reset:
        confirm_deletion(EVERYTHING, command="seed --reset", yes=yes, database_url=database_url)
    plan = SeedPlan(boards=boards, lists_per_board=lists_per_board, tasks=tasks, users=users, seed=seed_)
    existing = ExistingData.RESET if reset else ExistingData.APPEND if append else ExistingData.REFUSE
    # The bar goes to stderr (stdout stays one clean --json document), only on a terminal, and
    # vanishes when done: what remains is the summary, or the one-line error.
    errors = error_console()
    columns = (
        TextColumn("{task.description:<40}"),
        BarColumn(bar_width=20),
        TaskProgressColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=errors, transient=True, disable=not errors.is_terminal) as bar:
        job = bar.add_task("connecting", total=plan_total(plan))

        def show(step: Step) -> None:
            what = f"{PHASES[step.phase]} {step.what}".rstrip()
            bar.update(job, description=what, completed=step.done, total=step.total)

        def announce(space: Space) -> None:
            # Above the bar, on a terminal only, like the bar: scripts read the --json document.
            if errors.is_terminal:
                bar.console.print(f"seeding {plan.tasks:,} tasks: {space.describe()}")

        try:
            # Without a terminal nobody sees the bar: no second connection watching the server.
            watching = show if errors.is_terminal else None
            report = seed(database_url, plan, existing=existing, progress=watching, announce=announce)
        except DatabaseNotEmpty as exc:
            raise UsageError(exc.message) from exc

    def human(console) -> None:
        counts = ", ".join(f"{count:,} {table}" for table, count in report.rows.items())
        console.print(f"seeded {counts}")
        console.print(
            f"{report.total_rows:,} rows in {report.seconds:.1f} s: "
            f"[bold]{report.rows_per_second:,.0f} rows/s[/] "
            f"(copy {report.phases['copy']:.1f} s, analyze {report.phases['analyze']:.1f} s, "
            f"indexes {report.phases['indexes']:.1f} s, keys {report.phases['keys']:.1f} s, "
            f"commit {report.phases['commit']:.1f} s); "
            f"the tables take {report.bytes / 2**20:,.0f} MB"
        )

    render(report.as_dict(), as_json=as_json, human=human)
