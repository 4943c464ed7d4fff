"""`concord user`: the people tasks are assigned to."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from concord.cli.common import DatabaseUrl, Json, render, transact
from concord.services import users

app = typer.Typer(help="Users: who tasks are assigned to.", no_args_is_help=True)


@app.command()
def create(
    name: Annotated[str, typer.Argument(help="Unique user name.", show_default=False)],
    database_url: DatabaseUrl = None,
    as_json: Json = False,
) -> None:
    """Create a user."""
    user = transact(database_url, users.create_user, name)
    render(
        user.as_dict(),
        as_json=as_json,
        human=lambda c: c.print(f"created user {user.id}: {escape(user.name)}"),
    )


@app.command("list")
def list_users(database_url: DatabaseUrl = None, as_json: Json = False) -> None:
    """List every user."""
    found = transact(database_url, users.list_users)

    def human(console) -> None:
        table = Table("id", "name")
        for user in found:
            table.add_row(str(user.id), escape(user.name))
        console.print(table)

    render([u.as_dict() for u in found], as_json=as_json, human=human)
