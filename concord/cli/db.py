"""`concord db`: the database itself (status, migrations, reset, the embedded server)."""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.table import Table

from concord.cli.common import DatabaseUrl, Json, Yes, confirm_deletion, render
from concord.db import admin

EVERYTHING = "every board, list, task and user"

app = typer.Typer(help="Inspect, migrate, reset or stop the database.", no_args_is_help=True)


@app.command()
def status(database_url: DatabaseUrl = None, as_json: Json = False) -> None:
    """Show the server, its version, the URL (password masked) and the migration revision."""
    report = admin.status(database_url)

    def human(console) -> None:
        table = Table(show_header=False, box=None)
        table.add_column()
        table.add_column(overflow="fold")  # a long URL wraps instead of losing its end to an ellipsis
        for key, value in report.items():
            table.add_row(key.replace("_", " "), "-" if value is None else escape(str(value)))
        console.print(table)

    render(report, as_json=as_json, human=human)


@app.command()
def upgrade(
    database_url: DatabaseUrl = None,
    revision: str = typer.Option("head", help="Target revision."),
    as_json: Json = False,
) -> None:
    """Apply migrations up to head (or --revision)."""
    before, after = admin.upgrade(database_url, revision)
    document = {"from": before, "to": after, "changed": before != after}
    if before == after:
        message = f"already at {after}"
    else:
        message = f"migrated from {before or 'no concord schema'} to {after}"
    render(document, as_json=as_json, human=lambda c: c.print(message))


@app.command()
def reset(database_url: DatabaseUrl = None, yes: Yes = False, as_json: Json = False) -> None:
    """Drop every concord table and migrate again from scratch (asks first, or --yes)."""
    confirm_deletion(EVERYTHING, command="db reset", yes=yes, database_url=database_url)
    revision = admin.reset(database_url)
    render(
        {"revision": revision},
        as_json=as_json,
        human=lambda c: c.print(f"database reset to revision {revision}"),
    )


@app.command()
def stop(database_url: DatabaseUrl = None, as_json: Json = False) -> None:
    """Stop the embedded server (a no-op when it is not running; refused for an external server)."""
    stopped = admin.stop_embedded(database_url)
    message = "embedded server stopped" if stopped else "embedded server was not running"
    render({"stopped": stopped}, as_json=as_json, human=lambda c: c.print(message))


@app.command()
def indexes(database_url: DatabaseUrl = None, as_json: Json = False) -> None:
    """Check that every foreign key has a supporting index and every index is used by some named
    query (plans of `concord explain`'s queries, rolled back). Seed first: on a nearly empty
    database the planner prefers sequential scans. Reports; exits 0 either way."""
    from concord.explain import indexes as index_audit
    from concord.explain import render as draw

    report = index_audit.audit(database_url)
    render(report.as_dict(), as_json=as_json, human=lambda c: c.print(draw.index_audit(report)))
