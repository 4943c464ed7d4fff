"""Activity use cases: the feed of a board, and writing entries collected earlier."""

from __future__ import annotations

from concord import validation
from concord.models import Activity
from concord.repositories import ActivityEntry
from concord.uow import UnitOfWork

FEED_MAX = 500


def board_activity(uow: UnitOfWork, board_id: int, *, limit: int = 50) -> list[Activity]:
    """A board's newest activity first (at most FEED_MAX entries)."""
    uow.boards.get(board_id)
    validation.limit(limit, maximum=FEED_MAX)
    return uow.activity.feed(board_id, limit)


def record_entries(uow: UnitOfWork, entries: list[ActivityEntry]) -> int:
    """Write activity entries collected by a deferred unit of work."""
    return uow.activity.record_later(entries)
