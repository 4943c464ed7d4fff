"""Lists: the columns of a board."""

from __future__ import annotations

from concord import queries
from concord.models import TaskList
from concord.repositories.base import Repository


class ListRepository(Repository):
    def add(
        self, board_id: int, name: str, *, wip_limit: int | None = None, position: int | None = None
    ) -> TaskList:
        """Add a list to a board, at the end unless a position is given."""
        if position is None:
            position = self.session.scalar(queries.next_list_position(board_id))
        task_list = TaskList(board_id=board_id, name=name, wip_limit=wip_limit, position=position)
        self.session.add(task_list)
        self.session.flush()
        return task_list

    def get(self, list_id: int) -> TaskList:
        return self._one(queries.list_by_id(list_id), "list", list_id)

    def of_board(self, board_id: int) -> list[TaskList]:
        return list(self.session.scalars(queries.lists_of_board(board_id)))

    def rename(self, list_id: int, name: str) -> TaskList:
        task_list = self.get(list_id)
        task_list.name = name
        self.session.flush()
        return task_list

    def set_wip_limit(self, list_id: int, wip_limit: int | None) -> TaskList:
        task_list = self.get(list_id)
        task_list.wip_limit = wip_limit
        self.session.flush()
        return task_list

    def count_tasks(self, list_id: int) -> int:
        """How many tasks the list holds now (as this transaction's snapshot sees it)."""
        return int(self.session.scalar(queries.wip_count(list_id)) or 0)

    def delete(self, list_id: int) -> TaskList:
        """Delete the list; the database cascades to its tasks."""
        task_list = self.get(list_id)
        self.session.delete(task_list)
        self.session.flush()
        return task_list

    def lock(self, list_id: int) -> TaskList:
        """The list, locked FOR UPDATE until the transaction ends."""
        return self._one(queries.list_for_update(list_id), "list", list_id)
