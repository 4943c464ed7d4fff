"""The named read statements the repositories execute.

Each builder returns the SQLAlchemy statement a repository runs, so `concord explain` can show the
plan of the very statement the library issues. Statements that take locks live with their locking
strategy in `concord.locking`.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from concord.models import Activity, Board, Task, TaskList, User


def board_by_id(board_id: int) -> sa.Select:
    return sa.select(Board).where(Board.id == board_id)


def all_boards() -> sa.Select:
    return sa.select(Board).order_by(Board.id)


def board_tree(board_id: int) -> sa.Select:
    """A board with its lists and their tasks (each with its assignee), in board order (three
    indexed queries: the assignees are joined to the tasks)."""
    return (
        sa.select(Board)
        .where(Board.id == board_id)
        .options(selectinload(Board.lists).selectinload(TaskList.tasks).joinedload(Task.assignee))
    )


def lists_of_board(board_id: int) -> sa.Select:
    return sa.select(TaskList).where(TaskList.board_id == board_id).order_by(TaskList.position, TaskList.id)


def list_by_id(list_id: int) -> sa.Select:
    return sa.select(TaskList).where(TaskList.id == list_id)


def next_list_position(board_id: int) -> sa.Select:
    return sa.select(sa.func.coalesce(sa.func.max(TaskList.position) + 1, 0)).where(
        TaskList.board_id == board_id
    )


def task_by_id(task_id: int) -> sa.Select:
    return sa.select(Task).where(Task.id == task_id)


def task_version(task_id: int) -> sa.Select:
    return sa.select(Task.version).where(Task.id == task_id)


def tasks_in_list(list_id: int) -> sa.Select:
    """Tasks of a list in board order; served by ix_tasks_list_id_position_id."""
    return sa.select(Task).where(Task.list_id == list_id).order_by(Task.position, Task.id)


def tasks_by_assignee(user_id: int) -> sa.Select:
    """Someone's tasks; served by ix_tasks_assignee_id."""
    return sa.select(Task).where(Task.assignee_id == user_id).order_by(Task.id)


def wip_count(list_id: int) -> sa.Select:
    """How many tasks a list holds: the read that the wip-limit check depends on."""
    return sa.select(sa.func.count()).select_from(Task).where(Task.list_id == list_id)


def next_task_position(list_id: int) -> sa.Select:
    return sa.select(sa.func.coalesce(sa.func.max(Task.position) + 1, 0)).where(Task.list_id == list_id)


def user_by_id(user_id: int) -> sa.Select:
    return sa.select(User).where(User.id == user_id)


def user_by_name(name: str) -> sa.Select:
    return sa.select(User).where(User.name == name)


def all_users() -> sa.Select:
    return sa.select(User).order_by(User.id)


def activity_feed(board_id: int, limit: int = 50) -> sa.Select:
    """A board's newest activity first; served by ix_activity_board_id_created_at_id."""
    return (
        sa.select(Activity)
        .where(Activity.board_id == board_id)
        .order_by(Activity.created_at.desc(), Activity.id.desc())
        .limit(limit)
    )


# Row locks the use cases take (the locking strategies in concord.locking build their own).


def task_for_update(task_id: int) -> sa.Select:
    """Lock one task row until the transaction ends (assign: check-then-write without a race)."""
    return task_by_id(task_id).with_for_update()


def list_for_update(list_id: int) -> sa.Select:
    """Lock one list row: moves into the list serialise on it, so the WIP count stays true."""
    return list_by_id(list_id).with_for_update()


def ids_with_name(id_column: Any, name_column: Any, name: str, limit: int) -> sa.Select:
    """The ids of the rows whose ``name_column`` is ``name``, lowest first, at most ``limit``."""
    return sa.select(id_column).where(name_column == name).order_by(id_column).limit(limit)
