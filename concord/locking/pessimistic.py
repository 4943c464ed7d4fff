"""`pessimistic`: ``SELECT ... FOR UPDATE`` before the change.

The row lock is held until the transaction ends, so a second worker waits at its read and then
sees the first one's committed value (READ COMMITTED re-reads the locked row). Under REPEATABLE
READ and SERIALIZABLE the waiter's snapshot is older than the row it finally locks, so it gets a
serialization failure (40001) instead and the retry loop runs it again.
"""

from __future__ import annotations

import sqlalchemy as sa

from concord.locking.base import LockingStrategy, by_id, default_table


class PessimisticLocking(LockingStrategy):
    """Lock the rows to be changed with ``FOR UPDATE``, waiting for any holder."""

    name = "pessimistic"
    summary = "SELECT ... FOR UPDATE: wait for the row lock, then read the current value"
    locks = True

    def read(self, select: sa.Select) -> sa.Select:
        return select.with_for_update()

    def lock_statement(self, table: sa.Table | None = None) -> sa.Executable:
        return self.read(by_id(table if table is not None else default_table()))
