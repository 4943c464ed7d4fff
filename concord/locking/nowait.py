"""`nowait`: ``SELECT ... FOR UPDATE NOWAIT``; a held row fails at once with 55P03.

Nobody ever waits for a row lock, so there are no lock queues and no deadlocks; the price is a
`LockNotAvailable` for every collision, which the retry loop answers with jittered backoff.
"""

from __future__ import annotations

import sqlalchemy as sa

from concord.locking.base import LockingStrategy, by_id, default_table


class NowaitLocking(LockingStrategy):
    """Lock with ``FOR UPDATE NOWAIT``: fail (55P03) instead of waiting when the row is held."""

    name = "nowait"
    summary = "SELECT ... FOR UPDATE NOWAIT: fail at once with 55P03 when held, back off, retry"
    retries = frozenset({"lock_not_available"})
    locks = True

    def read(self, select: sa.Select) -> sa.Select:
        # Only NOWAIT: SQLAlchemy would render "NOWAIT SKIP LOCKED" if both were asked for,
        # which PostgreSQL rejects.
        return select.with_for_update(nowait=True)

    def lock_statement(self, table: sa.Table | None = None) -> sa.Executable:
        return self.read(by_id(table if table is not None else default_table()))
