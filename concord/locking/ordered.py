"""`ordered`: pessimistic row locks taken in ascending key order.

Two transactions that lock the same rows in opposite orders can each hold one row and wait for
the other's: PostgreSQL detects the cycle after ``deadlock_timeout`` (1 s by default) and aborts
one of them with 40P01. Locking every transaction's rows in one global order (here: by
namespace, then id) makes such a cycle impossible. For a single row this is `pessimistic`.
"""

from __future__ import annotations

from concord.locking.pessimistic import PessimisticLocking


class OrderedLocking(PessimisticLocking):
    """``FOR UPDATE`` on several rows, always in ascending (namespace, id) order."""

    name = "ordered"
    summary = "SELECT ... FOR UPDATE on every row involved, in ascending key order (no deadlock cycle)"
    orders_keys = True
