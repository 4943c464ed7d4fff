"""The interface every locking strategy implements.

A strategy decides three things about a read-modify-write on rows a caller names:

1. ``guard(keys)``: statements to run first in the transaction (the advisory strategy takes
   ``pg_advisory_xact_lock`` here; the others take nothing);
2. ``read(select)``: how the rows are read before the change (``FOR UPDATE``, ``NOWAIT``,
   ``SKIP LOCKED``, or a plain read);
3. ``write(update, version_column)``: how the change is written (the optimistic strategy adds
   ``AND version = :expected_version`` and the caller checks the row count).

Strategies only build SQLAlchemy statements, so they apply to a caller's own tables:

    strategy = get_strategy("pessimistic")
    with engine.begin() as conn:
        for stmt in strategy.guard([EntityKey("tasks", 42)]):
            conn.execute(stmt)
        row = conn.execute(strategy.read(select(tasks).where(tasks.c.id == 42))).one()
        result = conn.execute(strategy.write(update(tasks).where(tasks.c.id == 42).values(...),
                                             tasks.c.version), {"expected_version": row.version})
        strategy.check_written(result.rowcount, "task", 42, row.version)

`concord.locking.retry` runs such a transaction again when the server or the strategy reports a
conflict worth retrying.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import sqlalchemy as sa

from concord.errors import StaleVersion
from concord.locking.keys import EXPECTED_VERSION, EntityKey, lock_order

__all__ = ["EXPECTED_VERSION", "EntityKey", "LockingStrategy", "by_id", "default_table"]


class LockingStrategy:
    """One way of protecting a read-modify-write. Subclasses override what they change."""

    #: The name used on the command line and in result documents.
    name: ClassVar[str]
    #: One line saying how the strategy protects the write.
    summary: ClassVar[str]
    #: Conflict kinds (see `concord.locking.retry.classify`) the strategy expects and retries,
    #: beyond the serialization failures and deadlocks every strategy retries.
    retries: ClassVar[frozenset[str]] = frozenset()
    #: Whether the strategy takes a lock (row or advisory) before it reads.
    locks: ClassVar[bool] = False
    #: Whether ``read`` may return fewer rows than exist because some are held by others.
    skips_held_rows: ClassVar[bool] = False
    #: Whether ``write`` is a compare-and-set on a version column.
    compares_version: ClassVar[bool] = False
    #: Whether ``guard`` takes locks in ascending key order when given several keys.
    orders_keys: ClassVar[bool] = False
    #: (namespace, id) -> the value bound to ``:key`` of `guard_statement`, for strategies that
    #: guard: a plain function of a module without SQLAlchemy (`concord.locking.keys`), so racing
    #: worker processes can compute keys without importing the strategies (a ``staticmethod``).
    guard_key_function: ClassVar[staticmethod[[str, int], int] | None] = None

    def guard_statement(self) -> sa.Select | None:
        """The statement run first in the transaction for each key, with a ``:key`` bigint bind.

        None for strategies that guard nothing (all but `advisory`).
        """
        return None

    def guard_key(self, key: EntityKey) -> int:
        """The value bound to ``:key`` of `guard_statement` for one entity."""
        if self.guard_key_function is None:
            raise NotImplementedError(f"{self.name} takes no guard lock")
        return self.guard_key_function(key.namespace, key.id)

    def guard(self, keys: Sequence[EntityKey]) -> list[sa.Executable]:
        """Statements to run first in the transaction, before any read, one per key in lock order."""
        statement = self.guard_statement()
        if statement is None:
            return []
        return [statement.params(key=self.guard_key(k)) for k in self.order(keys)]

    def read(self, select: sa.Select) -> sa.Select:
        """The read of the rows about to be changed."""
        return select

    def order(self, keys: Sequence[EntityKey]) -> list[EntityKey]:
        """The order in which several keys are locked: as given, unless the strategy sorts them."""
        return lock_order(keys, ascending=self.orders_keys)

    def write(self, update: sa.Update, version_column: sa.ColumnElement[int] | None = None) -> sa.Update:
        """The write; strategies that compare versions add the check and the bump here."""
        return update

    def check_written(self, rowcount: int, entity: str, key: object, expected_version: int) -> None:
        """Raise `StaleVersion` when a compare-and-set write matched no row."""
        if self.compares_version and rowcount == 0:
            raise StaleVersion(entity, key, expected_version, None)

    def lock_statement(self, table: sa.Table | None = None) -> sa.Executable | None:
        """The statement that takes this strategy's lock on one row of ``table`` (default: tasks).

        None for strategies that take no lock. `concord explain` lists these.
        """
        return None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


def default_table() -> sa.Table:
    """The table strategies show their lock statement on when none is named: tasks."""
    from concord.models import Task

    return Task.__table__


def by_id(table: sa.Table, param: str = "id") -> sa.Select:
    """``SELECT * FROM table WHERE id = :param``: the row a lock statement is shown on."""
    return sa.select(table).where(table.c.id == sa.bindparam(param))
