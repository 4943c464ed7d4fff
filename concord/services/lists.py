"""List use cases."""

from __future__ import annotations

from concord import validation
from concord.models import TaskList
from concord.uow import UnitOfWork


def create_list(
    uow: UnitOfWork, board_id: int, name: str, *, wip_limit: int | None = None, position: int | None = None
) -> TaskList:
    uow.boards.get(board_id)  # NotFound before the foreign key would say it less clearly
    task_list = uow.lists.add(
        board_id,
        validation.name(name),
        wip_limit=validation.wip_limit(wip_limit),
        position=validation.position(position),
    )
    uow.activity.record(board_id, "list.created", detail={"list_id": task_list.id, "name": task_list.name})
    return task_list


def get_list(uow: UnitOfWork, list_id: int) -> TaskList:
    return uow.lists.get(list_id)


def lists_of_board(uow: UnitOfWork, board_id: int) -> list[TaskList]:
    uow.boards.get(board_id)
    return uow.lists.of_board(board_id)


def rename_list(uow: UnitOfWork, list_id: int, name: str) -> TaskList:
    task_list = uow.lists.rename(list_id, validation.name(name))
    uow.activity.record(task_list.board_id, "list.renamed", detail={"list_id": list_id, "to": task_list.name})
    return task_list


def set_wip_limit(uow: UnitOfWork, list_id: int, wip_limit: int | None) -> TaskList:
    task_list = uow.lists.set_wip_limit(list_id, validation.wip_limit(wip_limit))
    uow.activity.record(
        task_list.board_id, "list.wip_limit", detail={"list_id": list_id, "wip_limit": wip_limit}
    )
    return task_list


def delete_list(uow: UnitOfWork, list_id: int) -> TaskList:
    """Delete a list and its tasks."""
    task_list = uow.lists.delete(list_id)
    uow.activity.record(
        task_list.board_id, "list.deleted", detail={"list_id": list_id, "name": task_list.name}
    )
    return task_list
