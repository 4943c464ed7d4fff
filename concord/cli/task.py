"""`concord task`: create, show, update (with a version check), move, assign and delete tasks."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from concord.cli.common import DatabaseUrl, Json, Yes, confirm_deletion, render, transact
from concord.models import Task
from concord.services import tasks
from concord.services.refs import Named

app = typer.Typer(help="Tasks: the cards on a board.", no_args_is_help=True)
TaskRef = Annotated[str, typer.Argument(help="Task id or title.", show_default=False)]
ExpectedVersion = Annotated[
    int | None,
    typer.Option("--expected-version", help="Refuse (exit 3) if the task is no longer at this version."),
]


@app.command()
def create(
    title: Annotated[str, typer.Argument(help="Task title (1-500 characters).", show_default=False)],
    list_ref: Annotated[str, typer.Option("--list", help="List id or name.", show_default=False)],
    description: Annotated[str, typer.Option(help="Longer text.")] = "",
    status: Annotated[str, typer.Option(help="todo, doing or done.")] = "todo",
    points: Annotated[int, typer.Option(help="Estimate in points (0 or more).")] = 0,
    assignee: Annotated[str | None, typer.Option("--assignee", help="User id or name.")] = None,
    position: Annotated[int | None, typer.Option(help="Place in the list (default: last).")] = None,
    database_url: DatabaseUrl = None,
    as_json: Json = False,
) -> None:
    """Create a task in a list."""
    task = transact(
        database_url,
        tasks.create_task,
        Named.list(list_ref),
        title,
        description=description,
        status=status,
        points=points,
        assignee=assignee,
        position=position,
    )
    render(
        task.as_dict(),
        as_json=as_json,
        human=lambda c: c.print(f"created task {task.id}: {escape(task.title)}"),
    )


@app.command()
def show(task: TaskRef, database_url: DatabaseUrl = None, as_json: Json = False) -> None:
    """Show one task."""
    shown = transact(database_url, tasks.get_task, Named.task(task))
    render(shown.as_dict(), as_json=as_json, human=lambda c: c.print(task_table(shown)))


@app.command()
def update(
    task: TaskRef,
    title: Annotated[str | None, typer.Option(help="New title.")] = None,
    description: Annotated[str | None, typer.Option(help="New description.")] = None,
    status: Annotated[str | None, typer.Option(help="todo, doing or done.")] = None,
    points: Annotated[int | None, typer.Option(help="New estimate.")] = None,
    expected_version: ExpectedVersion = None,
    database_url: DatabaseUrl = None,
    as_json: Json = False,
) -> None:
    """Change a task's fields; with --expected-version, only if nobody wrote it since."""
    updated = transact(
        database_url,
        tasks.update_task,
        Named.task(task),
        expected_version=expected_version,
        title=title,
        description=description,
        status=status,
        points=points,
    )
    render(
        updated.as_dict(),
        as_json=as_json,
        human=lambda c: c.print(f"updated task {updated.id}, now version {updated.version}"),
    )


@app.command()
def move(
    task: TaskRef,
    to_list: Annotated[str, typer.Option("--to-list", help="Target list id or name.", show_default=False)],
    position: Annotated[int | None, typer.Option(help="Place in the target list (default: last).")] = None,
    expected_version: ExpectedVersion = None,
    database_url: DatabaseUrl = None,
    as_json: Json = False,
) -> None:
    """Move a task to another list of its board, within the list's WIP limit."""
    moved = transact(
        database_url,
        tasks.move_task,
        Named.task(task),
        Named.list(to_list),
        position=position,
        expected_version=expected_version,
    )
    render(
        moved.as_dict(),
        as_json=as_json,
        human=lambda c: c.print(
            f"moved task {moved.id} to list {moved.list_id} at position {moved.position}"
        ),
    )


@app.command()
def assign(
    task: TaskRef,
    to: Annotated[str, typer.Option("--to", help="User id or name.", show_default=False)],
    reassign: Annotated[bool, typer.Option(help="Take the task from its current assignee.")] = False,
    expected_version: ExpectedVersion = None,
    database_url: DatabaseUrl = None,
    as_json: Json = False,
) -> None:
    """Assign a task to a user (refused, exit 3, if someone else holds it)."""
    assigned = transact(
        database_url,
        tasks.assign_task,
        Named.task(task),
        to,
        reassign=reassign,
        expected_version=expected_version,
    )
    render(
        assigned.as_dict(),
        as_json=as_json,
        human=lambda c: c.print(f"task {assigned.id} assigned to user {assigned.assignee_id}"),
    )


@app.command()
def delete(
    task: TaskRef,
    expected_version: ExpectedVersion = None,
    yes: Yes = False,
    database_url: DatabaseUrl = None,
    as_json: Json = False,
) -> None:
    """Delete a task and its activity (asks first, or --yes)."""
    confirm_deletion(f"task {task}", command="task delete", yes=yes, database_url=database_url)
    deleted = transact(database_url, tasks.delete_task, Named.task(task), expected_version=expected_version)
    render(deleted.as_dict(), as_json=as_json, human=lambda c: c.print(f"deleted task {deleted.id}"))


def task_table(task: Task) -> Table:
    table = Table(show_header=False, box=None)
    table.add_column()
    table.add_column(overflow="fold")  # long titles wrap rather than end in an ellipsis
    for key, value in task.as_dict().items():
        table.add_row(key.replace("_", " "), "-" if value is None else escape(str(value)))
    return table
