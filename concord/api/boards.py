"""Routes for boards, their lists and their activity."""

from __future__ import annotations

from fastapi import APIRouter, Query, status

from concord.api.deps import Db, Write
from concord.api.schemas import ActivityOut, BoardIn, BoardOut, BoardTreeOut, ListIn, ListOut
from concord.services import activity, boards, lists

router = APIRouter(tags=["boards"])


@router.post("/boards", status_code=status.HTTP_201_CREATED, response_model=BoardOut)
def create_board(body: BoardIn, write: Write):
    return write(boards.create_board, body.name)


@router.get("/boards", response_model=list[BoardOut])
def list_boards(db: Db):
    return db.transact(boards.list_boards)


@router.get("/boards/{board_id}", response_model=BoardTreeOut)
def get_board(board_id: int, db: Db):
    return db.transact(boards.board_tree, board_id)


@router.patch("/boards/{board_id}", response_model=BoardOut)
def rename_board(board_id: int, body: BoardIn, write: Write):
    return write(boards.rename_board, board_id, body.name)


@router.delete("/boards/{board_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_board(board_id: int, write: Write) -> None:
    write(boards.delete_board, board_id)


@router.get("/boards/{board_id}/lists", response_model=list[ListOut])
def board_lists(board_id: int, db: Db):
    return db.transact(lists.lists_of_board, board_id)


@router.post("/boards/{board_id}/lists", status_code=status.HTTP_201_CREATED, response_model=ListOut)
def create_list(board_id: int, body: ListIn, write: Write):
    return write(lists.create_list, board_id, body.name, wip_limit=body.wip_limit, position=body.position)


@router.get("/boards/{board_id}/activity", response_model=list[ActivityOut])
def board_activity(board_id: int, db: Db, limit: int = Query(50, description="Newest entries first.")):
    return db.transact(activity.board_activity, board_id, limit=limit)
