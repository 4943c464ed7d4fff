"""`optimistic`: no lock; the write is a compare-and-set on the version column.

    UPDATE tasks SET ..., version = version + 1 WHERE id = :id AND version = :expected_version

A row count of 0 means someone wrote the row since it was read: `StaleVersion`, and the retry
loop reads again. Under REPEATABLE READ and SERIALIZABLE the same collision usually surfaces as
a serialization failure (40001) before the row count can say so; both are retried.
"""

from __future__ import annotations

import sqlalchemy as sa

from concord.locking.base import EXPECTED_VERSION, LockingStrategy


class OptimisticLocking(LockingStrategy):
    """Read without locking; write only if the version is still the one read."""

    name = "optimistic"
    summary = "UPDATE ... WHERE version = :read_version; 0 rows means stale: re-read and retry"
    retries = frozenset({"stale_version"})
    compares_version = True

    def write(self, update: sa.Update, version_column: sa.ColumnElement[int] | None = None) -> sa.Update:
        if version_column is None:
            raise ValueError("optimistic locking needs the version column of the row it writes")
        return update.where(version_column == sa.bindparam(EXPECTED_VERSION)).values(
            {version_column.key: version_column + sa.literal_column("1")}
        )

    def lock_statement(self, table: sa.Table | None = None) -> sa.Executable:
        """The compare-and-set write (optimistic locking takes no lock; this is its check)."""
        from concord.locking.base import default_table

        table = table if table is not None else default_table()
        update = sa.update(table).where(table.c.id == sa.bindparam("id"))
        return self.write(update.values(updated_at=sa.func.now()), table.c.version)
