"""The activity feed: an append-only log of writes per board."""

from __future__ import annotations

from typing import Any

from concord import queries
from concord.models import Activity
from concord.repositories.base import Repository


class ActivityRepository(Repository):
    def record(self, board_id: int, action: str, *, task_id: int | None = None,
               detail: dict[str, Any] | None = None) -> Activity:
        entry = Activity(board_id=board_id, task_id=task_id, action=action, detail=detail or {})
        self.session.add(entry)
        self.session.flush()
        return entry

    def feed(self, board_id: int, limit: int = 50) -> list[Activity]:
        """The board's newest entries first."""
        return list(self.session.scalars(queries.activity_feed(board_id, limit)))
