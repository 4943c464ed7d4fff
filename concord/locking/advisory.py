"""`advisory`: ``pg_advisory_xact_lock(key)`` on a key derived from the entity, then a plain read.

The key scheme
--------------
PostgreSQL advisory locks are named by one signed 64-bit integer (or two int4s, a separate key
space that never conflicts with the first). concord derives the int64 from the entity:

    key = int.from_bytes(blake2b(f"concord:{namespace}:{id}".encode(), digest_size=8).digest(),
                         "big", signed=True)

- a cryptographic hash with a fixed byte order, so every process and machine computes the same
  key (Python's ``hash()`` of a str is salted per process; ``hashtext()`` is internal and 32-bit);
- read as *signed*, so it always fits ``bigint`` (an unsigned value >= 2**63 would be sent as
  ``numeric``, and ``pg_advisory_xact_lock(numeric)`` does not exist);
- the ``concord:`` prefix and the namespace (the table name) keep tasks, lists and any other
  user of advisory locks in the same database apart. Collisions are possible in principle
  (64 bits), and would only make two unrelated entities wait for each other.

Transaction-level locks are used (released at COMMIT/ROLLBACK, never leaked to a pooled
connection). They need an explicit transaction: on an autocommit connection the lock is gone
when the statement ends.

Isolation
---------
Under REPEATABLE READ and SERIALIZABLE the ``SELECT pg_advisory_xact_lock(...)`` is the
transaction's first query, so it fixes the snapshot *before* the lock is granted: the previous
holder's committed write is invisible, and the write that follows fails with a serialization
failure (40001). concord lets the retry loop absorb that (results show it as retried
serialization failures); advisory locks are meant for READ COMMITTED, where every statement takes
a fresh snapshot after the lock is held.
"""

from __future__ import annotations

import sqlalchemy as sa

from concord.locking.base import LockingStrategy
from concord.locking.keys import KEY_PREFIX, advisory_key

__all__ = ["KEY_PREFIX", "AdvisoryLocking", "advisory_key", "advisory_lock_statement"]


def advisory_lock_statement(param: str = "key") -> sa.Select:
    """``SELECT pg_advisory_xact_lock(:key)``, the key bound as bigint."""
    return sa.select(sa.func.pg_advisory_xact_lock(sa.bindparam(param, type_=sa.BigInteger)))


class AdvisoryLocking(LockingStrategy):
    """Take a transaction-level advisory lock per entity, then read and write plainly."""

    name = "advisory"
    summary = "pg_advisory_xact_lock(key of the entity), then a plain read and write"
    locks = True

    guard_key_function = staticmethod(advisory_key)

    def guard_statement(self) -> sa.Select:
        return advisory_lock_statement()

    def lock_statement(self, table: sa.Table | None = None) -> sa.Executable:
        return advisory_lock_statement()
