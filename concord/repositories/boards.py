"""Boards."""

from __future__ import annotations

from concord import queries
from concord.models import Board
from concord.repositories.base import Repository


class BoardRepository(Repository):
    def add(self, name: str) -> Board:
        board = Board(name=name)
        self.session.add(board)
        self.session.flush()
        return board

    def get(self, board_id: int) -> Board:
        return self._one(queries.board_by_id(board_id), "board", board_id)

    def tree(self, board_id: int) -> Board:
        """The board with its lists and their tasks loaded, in board order."""
        return self._one(queries.board_tree(board_id), "board", board_id)

    def all(self) -> list[Board]:
        return list(self.session.scalars(queries.all_boards()))

    def rename(self, board_id: int, name: str) -> Board:
        board = self.get(board_id)
        board.name = name
        self.session.flush()
        return board

    def delete(self, board_id: int) -> Board:
        """Delete the board; the database cascades to its lists, tasks and activity."""
        board = self.get(board_id)
        self.session.delete(board)
        self.session.flush()
        return board
