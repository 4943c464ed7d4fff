"""Tasks, whose writes all bump the version column.

Every write goes through `write`, one UPDATE ... RETURNING that increments ``version`` and, when
the caller names the version it read, only matches that version (compare-and-set). A task written
by anyone therefore changes version, and an optimistic client notices.
"""

from __future__ import annotations

from typing import Any, cast

import sqlalchemy as sa

from concord import queries
from concord.errors import NotFound, StaleVersion
from concord.models import Task
from concord.repositories.base import Repository
from concord.validation import is_id

WRITABLE = frozenset({"title", "description", "status", "points", "position", "list_id", "assignee_id"})


class TaskRepository(Repository):
    def add(
        self,
        list_id: int,
        title: str,
        *,
        description: str = "",
        status: str = "todo",
        points: int = 0,
        assignee_id: int | None = None,
        position: int | None = None,
    ) -> Task:
        """Add a task to a list, at the end unless a position is given."""
        if position is None:
            position = self.session.scalar(queries.next_task_position(list_id))
        task = Task(
            list_id=list_id,
            title=title,
            description=description,
            status=status,
            points=points,
            assignee_id=assignee_id,
            position=position,
        )
        self.session.add(task)
        self.session.flush()
        self.session.refresh(task)  # server defaults: version, timestamps
        return task

    def get(self, task_id: int) -> Task:
        return self._one(queries.task_by_id(task_id), "task", task_id)

    def in_list(self, list_id: int) -> list[Task]:
        return list(self.session.scalars(queries.tasks_in_list(list_id)))

    def assigned_to(self, user_id: int) -> list[Task]:
        return list(self.session.scalars(queries.tasks_by_assignee(user_id)))

    def next_position(self, list_id: int) -> int:
        return int(self.session.scalar(queries.next_task_position(list_id)))

    def write(self, task_id: int, changes: dict[str, Any], *, expected_version: int | None = None) -> Task:
        """Apply ``changes`` and bump the version, in one statement.

        With ``expected_version``, the row is only written if it is still at that version;
        otherwise `StaleVersion` says which version it is at now.
        """
        unknown = set(changes) - WRITABLE
        if unknown:
            raise ValueError(f"not writable on a task: {sorted(unknown)}")
        if not is_id(task_id):
            raise NotFound("task", task_id)
        statement = (
            sa.update(Task)
            .where(Task.id == task_id)
            .values(**changes, version=Task.version + 1, updated_at=sa.func.now())
            .returning(Task)
            .execution_options(populate_existing=True, synchronize_session=False)
        )
        if expected_version is not None:
            statement = statement.where(Task.version == expected_version)
        task = self.session.scalars(statement).first()
        if task is not None:
            return task
        current = self.session.scalar(queries.task_version(task_id))
        if current is None:
            raise NotFound("task", task_id)
        assert expected_version is not None  # an unconditional UPDATE of an existing row matched it
        raise StaleVersion("task", task_id, expected_version, current)

    def make_room(self, list_id: int, position: int, *, moving: int | None = None) -> int:
        """Free ``position`` in a list for a task placed there: the tasks at or below it move down one.

        Positions are sort keys (ties go to the older task, gaps are allowed), so this only
        shifts anything when another task holds ``position`` already. Shifting is not a change
        to those tasks' content: their versions stay. Returns how many tasks moved down.
        """
        others = Task.list_id == list_id
        if moving is not None:
            others = sa.and_(others, Task.id != moving)
        taken = self.session.scalar(sa.select(sa.exists().where(others, Task.position == position)))
        if not taken:
            return 0
        # An UPDATE answers a CursorResult (it has the row count); Session.execute is typed Result.
        shifted = cast(
            "sa.CursorResult[Any]",
            self.session.execute(
                sa.update(Task).where(others, Task.position >= position).values(position=Task.position + 1)
            ),
        )
        return shifted.rowcount

    def delete(self, task_id: int, *, expected_version: int | None = None) -> Task:
        task = self.get(task_id)
        if expected_version is not None and task.version != expected_version:
            raise StaleVersion("task", task_id, expected_version, task.version)
        self.session.delete(task)
        self.session.flush()
        return task

    def lock(self, task_id: int) -> Task:
        """The task, locked FOR UPDATE until the transaction ends."""
        return self._one(queries.task_for_update(task_id), "task", task_id)
