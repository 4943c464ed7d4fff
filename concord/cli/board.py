"""`concord board`: create, list, show (as a tree), rename and delete boards."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

from concord.cli.common import DatabaseUrl, Json, Yes, confirm_deletion, render, transact
from concord.models import Board
from concord.services import boards
from concord.services.refs import Named

app = typer.Typer(help="Boards: the top of the tree.", no_args_is_help=True)
BoardRef = Annotated[str, typer.Argument(help="Board id or name.", show_default=False)]
Name = Annotated[str, typer.Argument(help="Board name (1-200 characters).", show_default=False)]


@app.command()
def create(name: Name, database_url: DatabaseUrl = None, as_json: Json = False) -> None:
    """Create a board."""
    board = transact(database_url, boards.create_board, name)
    render(
        board.as_dict(),
        as_json=as_json,
        human=lambda c: c.print(f"created board {board.id}: {escape(board.name)}"),
    )


@app.command("list")
def list_boards(database_url: DatabaseUrl = None, as_json: Json = False) -> None:
    """List every board."""
    found = transact(database_url, boards.list_boards)

    def human(console) -> None:
        table = Table("id", "name", "created")
        for board in found:
            table.add_row(str(board.id), escape(board.name), f"{board.created_at:%Y-%m-%d %H:%M}")
        console.print(table)

    render([b.as_dict() for b in found], as_json=as_json, human=human)


@app.command()
def show(board: BoardRef, database_url: DatabaseUrl = None, as_json: Json = False) -> None:
    """Show a board as a tree of its lists and tasks."""
    shown = transact(database_url, boards.board_tree, Named.board(board))
    render(board_document(shown), as_json=as_json, human=lambda c: c.print(board_tree(shown)))


@app.command()
def rename(board: BoardRef, name: Name, database_url: DatabaseUrl = None, as_json: Json = False) -> None:
    """Rename a board."""
    renamed = transact(database_url, boards.rename_board, Named.board(board), name)
    render(
        renamed.as_dict(),
        as_json=as_json,
        human=lambda c: c.print(f"board {renamed.id} is now {escape(repr(renamed.name))}"),
    )


@app.command()
def delete(
    board: BoardRef, yes: Yes = False, database_url: DatabaseUrl = None, as_json: Json = False
) -> None:
    """Delete a board with its lists, tasks and activity (asks first, or --yes)."""
    what = f"board {board} with its lists, tasks and activity"
    confirm_deletion(what, command="board delete", yes=yes, database_url=database_url)
    deleted = transact(database_url, boards.delete_board, Named.board(board))
    render(deleted.as_dict(), as_json=as_json, human=lambda c: c.print(f"deleted board {deleted.id}"))


def board_document(board: Board) -> dict:
    """The board, its lists and their tasks as one nested JSON-ready dict."""
    return {
        **board.as_dict(),
        "lists": [
            {**task_list.as_dict(), "tasks": [task.as_dict() for task in task_list.tasks]}
            for task_list in board.lists
        ],
    }


def board_tree(board: Board) -> Tree:
    tree = Tree(f"[bold]{escape(board.name)}[/] [dim]board {board.id}[/]")
    for task_list in board.lists:
        limit = f", WIP {len(task_list.tasks)}/{task_list.wip_limit}" if task_list.wip_limit else ""
        branch = tree.add(f"[bold cyan]{escape(task_list.name)}[/] [dim]list {task_list.id}{limit}[/]")
        for task in task_list.tasks:
            who = f" @{escape(task.assignee.name)}" if task.assignee else ""
            facts = f"task {task.id} · {task.status} · {task.points} pts · v{task.version}{who}"
            branch.add(f"{escape(task.title)} [dim]{facts}[/]")
    return tree
