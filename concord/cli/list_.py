"""`concord list`: the lists (columns) of a board."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from concord.cli.common import DatabaseUrl, Json, Yes, confirm_deletion, render, transact
from concord.cli.errors import UsageError
from concord.services import lists
from concord.services.refs import Named

app = typer.Typer(help="Lists: the columns of a board, optionally with a WIP limit.", no_args_is_help=True)
ListRef = Annotated[str, typer.Argument(help="List id or name.", show_default=False)]
BoardRef = Annotated[str, typer.Option("--board", help="Board id or name.", show_default=False)]
Name = Annotated[str, typer.Argument(help="List name (1-200 characters).", show_default=False)]


@app.command()
def create(
    name: Name,
    board: BoardRef,
    wip_limit: Annotated[
        int | None, typer.Option("--wip-limit", help="Most tasks the list may hold.")
    ] = None,
    position: Annotated[int | None, typer.Option("--position", help="Place among the board's lists.")] = None,
    database_url: DatabaseUrl = None,
    as_json: Json = False,
) -> None:
    """Create a list on a board."""
    task_list = transact(
        database_url, lists.create_list, Named.board(board), name, wip_limit=wip_limit, position=position
    )
    render(
        task_list.as_dict(),
        as_json=as_json,
        human=lambda c: c.print(
            f"created list {task_list.id}: {escape(task_list.name)} on board {task_list.board_id}"
        ),
    )


@app.command("list")
def list_lists(
    board: BoardRef,
    database_url: DatabaseUrl = None,
    as_json: Json = False,
) -> None:
    """List the lists of a board."""
    found = transact(database_url, lists.lists_of_board, Named.board(board))

    def human(console) -> None:
        table = Table("id", "name", "position", "wip limit")
        for task_list in found:
            table.add_row(
                str(task_list.id),
                escape(task_list.name),
                str(task_list.position),
                str(task_list.wip_limit or "-"),
            )
        console.print(table)

    render([t.as_dict() for t in found], as_json=as_json, human=human)


@app.command()
def rename(list_ref: ListRef, name: Name, database_url: DatabaseUrl = None, as_json: Json = False) -> None:
    """Rename a list."""
    task_list = transact(database_url, lists.rename_list, Named.list(list_ref), name)
    render(
        task_list.as_dict(),
        as_json=as_json,
        human=lambda c: c.print(f"list {task_list.id} is now {escape(repr(task_list.name))}"),
    )


@app.command("wip-limit", context_settings={"ignore_unknown_options": True})  # a negative LIMIT is a value
def wip_limit(
    list_ref: ListRef,
    limit: Annotated[
        str,
        typer.Argument(
            help="Most tasks the list may hold (1 or more), or none to lift the limit.", show_default=False
        ),
    ],
    database_url: DatabaseUrl = None,
    as_json: Json = False,
) -> None:
    """Set or lift a list's WIP limit; tasks already on the list stay, even above a lower limit."""
    task_list = transact(database_url, lists.set_wip_limit, Named.list(list_ref), parse_limit(limit))
    what = f"WIP limit {task_list.wip_limit}" if task_list.wip_limit else "no WIP limit"
    render(task_list.as_dict(), as_json=as_json, human=lambda c: c.print(f"list {task_list.id} has {what}"))


def parse_limit(text: str) -> int | None:
    """``none`` (no limit) or a whole number; the range is the service's to check."""
    if text.strip().lower() == "none":
        return None
    try:
        return int(text)
    except ValueError:
        raise UsageError(f"wip limit must be a whole number or none, not {text!r}") from None


@app.command()
def delete(
    list_ref: ListRef, yes: Yes = False, database_url: DatabaseUrl = None, as_json: Json = False
) -> None:
    """Delete a list and its tasks (asks first, or --yes)."""
    confirm_deletion(
        f"list {list_ref} with its tasks", command="list delete", yes=yes, database_url=database_url
    )
    task_list = transact(database_url, lists.delete_list, Named.list(list_ref))
    render(task_list.as_dict(), as_json=as_json, human=lambda c: c.print(f"deleted list {task_list.id}"))
