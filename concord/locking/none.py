"""`none`: read, change in Python, write back. No lock at all.

The control of every race: under READ COMMITTED two workers can read the same value and both
write, so one update is lost. REPEATABLE READ and SERIALIZABLE turn that into a serialization
failure (40001) instead, which the retry loop runs again.
"""

from __future__ import annotations

from concord.locking.base import LockingStrategy


class NoLocking(LockingStrategy):
    """A plain read followed by a plain write."""

    name = "none"
    summary = "plain read, modify in Python, plain write (the unsafe control)"
