"""`skip_locked`: ``SELECT ... FOR UPDATE SKIP LOCKED``, for claiming work from a queue.

Rows someone else holds are skipped rather than waited for, so many consumers can each take a
different row at the same time. It gives "an inconsistent view of the data" (PostgreSQL's
words): right for a queue, wrong for reading one named row, so the race engine refuses it for
scenarios that are not queues. Run consumers at READ COMMITTED: at REPEATABLE READ and above a
row changed since the snapshot is a serialization failure rather than a skip.
"""

from __future__ import annotations

import sqlalchemy as sa

from concord.locking.base import LockingStrategy


class SkipLockedLocking(LockingStrategy):
    """Lock with ``FOR UPDATE SKIP LOCKED``: take only rows nobody holds."""

    name = "skip_locked"
    summary = "SELECT ... FOR UPDATE SKIP LOCKED: take the first row nobody holds (queues)"
    locks = True
    skips_held_rows = True

    def read(self, select: sa.Select) -> sa.Select:
        return select.with_for_update(skip_locked=True)

    def lock_statement(self, table: sa.Table | None = None) -> sa.Executable:
        return claim_next_statement()


def claim_next_statement() -> sa.Select:
    """The claim-next query: the first unassigned task of a backlog list, skipping held rows.

    ``:list_id`` names the backlog. Served by the partial index
    ``ix_tasks_unassigned_list_id_position`` (tasks WHERE assignee_id IS NULL). LIMIT 1 inside
    the locking SELECT locks exactly the row returned; the caller then updates it by id.
    """
    from concord.models import Task

    return (
        sa.select(Task.id)
        .where(Task.list_id == sa.bindparam("list_id"), Task.assignee_id.is_(None))
        .order_by(Task.position, Task.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
