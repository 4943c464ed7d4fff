"""Asking the server which scripted sessions wait on a lock, and for whom.

A backend is blocked when ``pg_stat_activity`` shows it waiting on a heavyweight lock
(``wait_event_type = 'Lock'``: a row update waits on the holder's ``transactionid``) and
``pg_blocking_pids`` names who holds or queues ahead of it. Both are required: when a holder
commits, the server grants the lock to the waiter before the waiter wakes up, so for an instant
the waiter still shows the wait event while ``pg_blocking_pids`` is already empty. Such a step
is running, not blocked.

``pg_blocking_pids`` takes the lock manager's locks, so it is evaluated only for backends that
are in a lock wait, and the runner polls with a growing interval, not in a tight loop.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

_WAITS = """
SELECT pid,
       wait_event_type,
       wait_event,
       CASE WHEN wait_event_type = 'Lock' THEN pg_blocking_pids(pid) END AS blockers
  FROM pg_stat_activity
 WHERE pid = ANY(%s)
"""


@dataclass(frozen=True)
class LockWait:
    """A backend waiting on a lock: what kind (``transactionid``, ``tuple``...) and behind whom."""

    pid: int
    wait_event: str
    blockers: tuple[int, ...]


class Monitor:
    """A connection of its own, in autocommit so every probe sees fresh activity, not a snapshot."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn

    def lock_waits(self, pids: list[int]) -> dict[int, LockWait]:
        """The given backends that are blocked right now, by pid."""
        if not pids:
            return {}
        found: dict[int, LockWait] = {}
        for pid, event_type, event, blockers in self.conn.execute(_WAITS, (pids,)).fetchall():
            if event_type == "Lock" and blockers:
                found[pid] = LockWait(pid, event, tuple(blockers))
        return found

    def terminate(self, pid: int) -> None:
        """Ends a backend whose statement ignored a cancel request (cleanup's last resort)."""
        self.conn.execute("SELECT pg_terminate_backend(%s)", (pid,))
