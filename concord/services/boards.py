"""Board use cases."""

from __future__ import annotations

from concord import validation
from concord.models import Board
from concord.uow import UnitOfWork


def create_board(uow: UnitOfWork, name: str) -> Board:
    board = uow.boards.add(validation.name(name))
    uow.activity.record(board.id, "board.created", detail={"name": board.name})
    return board


def list_boards(uow: UnitOfWork) -> list[Board]:
    return uow.boards.all()


def get_board(uow: UnitOfWork, board_id: int) -> Board:
    return uow.boards.get(board_id)


def board_tree(uow: UnitOfWork, board_id: int) -> Board:
    """The board with its lists and tasks, for display as a tree."""
    return uow.boards.tree(board_id)


def rename_board(uow: UnitOfWork, board_id: int, name: str) -> Board:
    old = uow.boards.get(board_id).name
    board = uow.boards.rename(board_id, validation.name(name))
    uow.activity.record(board.id, "board.renamed", detail={"from": old, "to": board.name})
    return board


def delete_board(uow: UnitOfWork, board_id: int) -> Board:
    """Delete a board with its lists, tasks and activity."""
    return uow.boards.delete(board_id)
