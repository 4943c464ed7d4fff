"""Task use cases: create, update with a version check, move within a WIP limit, assign."""

from __future__ import annotations

from typing import Any

from concord import queries, validation
from concord.errors import (
    AlreadyAssigned,
    InvalidInput,
    LockNotAvailable,
    NotFound,
    StaleVersion,
    WipLimitExceeded,
)
from concord.locking import EntityKey, LockingStrategy, get_strategy
from concord.models import Task, TaskList
from concord.uow import UnitOfWork


def create_task(
    uow: UnitOfWork,
    list_id: int,
    title: str,
    *,
    description: str = "",
    status: str = "todo",
    points: int = 0,
    assignee: int | str | None = None,
    position: int | None = None,
) -> Task:
    """Add a task to a list (last unless ``position``), within the list's WIP limit.

    The list row is locked (FOR UPDATE) first, as a move into it does, so concurrent creates and
    moves cannot together overfill it, and the default position (last) is not handed out twice.
    Every input is checked before anything is written.
    """
    clean_title, status, points = (
        validation.title(title),
        validation.status(status),
        validation.points(points),
    )
    position = validation.position(position)
    task_list = uow.lists.lock(list_id)
    assignee_id = uow.users.resolve(assignee).id if assignee is not None else None
    _check_room(uow, task_list, "adding a task")
    if position is not None:
        uow.tasks.make_room(list_id, position)
    task = uow.tasks.add(
        list_id,
        clean_title,
        description=description,
        status=status,
        points=points,
        assignee_id=assignee_id,
        position=position,
    )
    uow.activity.record(task_list.board_id, "task.created", task_id=task.id, detail={"title": task.title})
    return task


def get_task(uow: UnitOfWork, task_id: int) -> Task:
    return uow.tasks.get(task_id)


def tasks_in_list(uow: UnitOfWork, list_id: int) -> list[Task]:
    uow.lists.get(list_id)
    return uow.tasks.in_list(list_id)


def update_task(
    uow: UnitOfWork,
    task_id: int,
    *,
    expected_version: int | None = None,
    title: str | None = None,
    description: str | None = None,
    status: str | None = None,
    points: int | None = None,
) -> Task:
    """Change a task's fields; with ``expected_version``, refuse if someone wrote it since."""
    changes: dict[str, Any] = {}
    if title is not None:
        changes["title"] = validation.title(title)
    if description is not None:
        changes["description"] = description
    if status is not None:
        changes["status"] = validation.status(status)
    if points is not None:
        changes["points"] = validation.points(points)
    if not changes:
        raise InvalidInput("nothing to update: give at least one field to change")
    task = uow.tasks.write(task_id, changes, expected_version=validation.version(expected_version))
    _record(uow, task, "task.updated", changes)
    return task


def move_task(
    uow: UnitOfWork,
    task_id: int,
    to_list_id: int,
    *,
    position: int | None = None,
    expected_version: int | None = None,
) -> Task:
    """Move a task to another list (of the same board), refusing to break its WIP limit.

    The target list's row is locked (FOR UPDATE) before its tasks are counted, so two concurrent
    moves into the same list are serialised and cannot both pass the check (write skew). With an
    explicit position the source list is locked too (see below).
    """
    position = validation.position(position)
    expected_version = validation.version(expected_version)
    task = uow.tasks.get(task_id)
    if expected_version is not None and task.version != expected_version:
        raise StaleVersion("task", task_id, expected_version, task.version)  # before touching its neighbours
    source = uow.lists.get(task.list_id)
    if position is not None and to_list_id != source.id:
        # Making room writes other tasks' rows. Two such moves crossing between the same two lists
        # could each hold a row the other must write (a deadlock), so both lists are locked first,
        # in id order: crossing moves with a position then run one after the other.
        for list_id in sorted((source.id, to_list_id)):
            uow.lists.lock(list_id)
    target = uow.lists.lock(to_list_id)
    if target.board_id != source.board_id:
        raise InvalidInput(
            f"list {to_list_id} is on board {target.board_id} but task {task_id} is on board "
            f"{source.board_id}: tasks move only within their board, pick a list of board "
            f"{source.board_id}"
        )
    if target.id != task.list_id:
        _check_room(uow, target, "the move")
    if position is None:
        position = task.position if target.id == task.list_id else uow.tasks.next_position(target.id)
    else:
        uow.tasks.make_room(target.id, position, moving=task_id)
    changes = {"list_id": target.id, "position": position}
    moved = uow.tasks.write(task_id, changes, expected_version=expected_version)
    _record(uow, moved, "task.moved", {"from_list": source.id, "to_list": target.id, "position": position})
    return moved


def assign_task(
    uow: UnitOfWork,
    task_id: int,
    user: int | str,
    *,
    reassign: bool = False,
    expected_version: int | None = None,
    strategy: str | LockingStrategy = "pessimistic",
) -> Task:
    """Assign a task to a user. A task someone else holds is refused unless ``reassign``.

    ``strategy`` (a `concord.locking` strategy or its name) protects the check-then-write:

    - ``pessimistic`` (default), ``ordered``: the row is locked FOR UPDATE before the check, so
      of concurrent assigns exactly one wins and the others get `AlreadyAssigned`;
    - ``nowait``: a held row raises `LockNotAvailable` at once instead of waiting;
    - ``skip_locked``: a held row is skipped, which here also means `LockNotAvailable`;
    - ``optimistic``: no lock; the write only matches the version read, losers get `StaleVersion`;
    - ``advisory``: an advisory lock on the task is taken first, then a plain read;
    - ``none``: no protection at all; concurrent assigns can all "win" (the control).
    """
    lock = get_strategy(strategy)
    assignee = uow.users.resolve(user)
    task = _read_for_write(uow, task_id, lock)
    if expected_version is not None and task.version != expected_version:
        raise StaleVersion("task", task_id, expected_version, task.version)
    if task.assignee_id == assignee.id:
        return task
    if task.assignee_id is not None and not reassign:
        holder = uow.users.get(task.assignee_id)
        raise AlreadyAssigned(
            f"task {task_id} is already assigned to {holder.name!r} (user {holder.id}): "
            "reassign it explicitly to take it over"
        )
    compare = task.version if lock.compares_version else None
    assigned = uow.tasks.write(task_id, {"assignee_id": assignee.id}, expected_version=compare)
    detail = {"user_id": assignee.id, "user": assignee.name, "strategy": lock.name}
    _record(uow, assigned, "task.assigned", detail)
    return assigned


def _read_for_write(uow: UnitOfWork, task_id: int, lock: LockingStrategy) -> Task:
    """Read the task the way the strategy says: after its guard lock, with its row lock (if any)."""
    for statement in lock.guard([EntityKey("tasks", task_id)]):
        uow.session.execute(statement)
    read = lock.read(queries.task_by_id(task_id)).execution_options(populate_existing=True)
    task = uow.session.scalars(read).first()
    if task is not None:
        return task
    if lock.skips_held_rows and uow.session.scalar(queries.task_version(task_id)) is not None:
        raise LockNotAvailable(f"task {task_id} is locked by another transaction (skipped)")
    raise NotFound("task", task_id)


def delete_task(uow: UnitOfWork, task_id: int, *, expected_version: int | None = None) -> Task:
    task = uow.tasks.delete(task_id, expected_version=validation.version(expected_version))
    board_id = uow.lists.get(task.list_id).board_id
    uow.activity.record(board_id, "task.deleted", detail={"task_id": task_id, "title": task.title})
    return task


def _check_room(uow: UnitOfWork, task_list: TaskList, what: str) -> None:
    """Refuse to add a task to a list that holds its WIP limit already (the list must be locked)."""
    if task_list.wip_limit is None:
        return
    held = uow.lists.count_tasks(task_list.id)
    if held >= task_list.wip_limit:
        tasks = "task" if held == 1 else "tasks"
        raise WipLimitExceeded(
            f"list {task_list.id} holds {held} {tasks}, its WIP limit is {task_list.wip_limit}: {what} would "
            "exceed it; move a task out of the list first or choose another list"
        )


def _record(uow: UnitOfWork, task: Task, action: str, detail: dict[str, Any]) -> None:
    board_id = uow.lists.get(task.list_id).board_id
    uow.activity.record(board_id, action, task_id=task.id, detail={**detail, "version": task.version})
