"""The activity feed: an append-only log of writes per board."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session

from concord import queries
from concord.models import Activity
from concord.repositories.base import Repository


@dataclass(frozen=True)
class ActivityEntry:
    """One activity record not yet written."""

    board_id: int
    action: str
    task_id: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)


class ActivityLog(Protocol):
    """What a unit of work's ``activity`` offers, written now (`ActivityRepository`) or collected
    for later (`DeferredActivity`): the use cases call it without knowing which."""

    def record(
        self, board_id: int, action: str, *, task_id: int | None = None, detail: dict[str, Any] | None = None
    ) -> object: ...

    def record_later(self, entries: list[ActivityEntry]) -> int: ...

    def feed(self, board_id: int, limit: int = 50) -> list[Activity]: ...


class ActivityFeed(Repository):
    """Reading the feed, the same whether this transaction's entries are written now or later."""

    def feed(self, board_id: int, limit: int = 50) -> list[Activity]:
        """The board's newest entries first."""
        return list(self.session.scalars(queries.activity_feed(board_id, limit)))


class ActivityRepository(ActivityFeed):
    def record(
        self, board_id: int, action: str, *, task_id: int | None = None, detail: dict[str, Any] | None = None
    ) -> Activity:
        entry = Activity(board_id=board_id, task_id=task_id, action=action, detail=detail or {})
        self.session.add(entry)
        self.session.flush()
        return entry

    def record_later(self, entries: list[ActivityEntry]) -> int:
        """Write entries collected earlier; returns how many were written.

        Time has passed since they were collected: an entry whose board is gone is dropped (its
        feed went with the board), and one whose task is gone keeps its text but loses the link,
        as ON DELETE SET NULL would have done.

        The board (and task) rows are read FOR KEY SHARE: a plain read could see a board whose
        deletion commits before the insert, whose foreign key check then fails. The key-share lock
        waits for such a deletion and then finds no row, and it keeps the row until this commit.
        """
        written = 0
        for entry in entries:
            if self.session.scalars(_key_share(queries.board_by_id(entry.board_id))).first() is None:
                continue
            task_id = entry.task_id
            if task_id is not None and self.session.scalar(_key_share(queries.task_version(task_id))) is None:
                task_id = None
            self.record(entry.board_id, entry.action, task_id=task_id, detail=entry.detail)
            written += 1
        return written


def _key_share(statement: sa.Select) -> sa.Select:
    # read=True with key_share=True renders FOR KEY SHARE (key_share alone is FOR NO KEY UPDATE).
    return statement.with_for_update(read=True, key_share=True)


class DeferredActivity(ActivityFeed):
    """Stands in for `ActivityRepository` in a unit of work that defers its activity log: it
    reads the feed as the repository does, and collects in `entries` what it would write."""

    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self.entries: list[ActivityEntry] = []

    def record(
        self, board_id: int, action: str, *, task_id: int | None = None, detail: dict[str, Any] | None = None
    ) -> ActivityEntry:
        entry = ActivityEntry(board_id, action, task_id, dict(detail or {}))
        self.entries.append(entry)
        return entry

    def record_later(self, entries: list[ActivityEntry]) -> int:
        """Collect entries collected elsewhere too: a deferred unit of work writes no activity."""
        self.entries.extend(entries)
        return len(entries)
