"""Will the server accept this many workers? Checked before anything starts."""

from __future__ import annotations

import psycopg

from concord.errors import InvalidInput
from concord.nouns import count

#: Connections the engine opens beside the workers: the fixture/check connection, the
#: control connection that cancels in-flight queries, and the wait sampler's.
OWN_CONNECTIONS = 3

FREE_SLOTS = """
SELECT current_setting('max_connections')::int
     - current_setting('superuser_reserved_connections')::int
     - coalesce(current_setting('reserved_connections', true)::int, 0)
     - (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')
"""


class TooManyWorkers(InvalidInput):
    """The server cannot take one connection per worker right now."""


def free_connections(conn: psycopg.Connection) -> int:
    """Connections an ordinary role can still open (this one already counted)."""
    row = conn.execute(FREE_SLOTS).fetchone()
    assert row is not None
    return int(row[0])


def ensure_capacity(conn: psycopg.Connection, workers: int) -> None:
    """Raise `TooManyWorkers` when ``workers`` connections (plus concord's own) do not fit."""
    free = free_connections(conn) + 1  # the control connection asking is one of ours
    needed = workers + OWN_CONNECTIONS
    if needed > free:
        max_connections = conn.execute("SHOW max_connections").fetchone()[0]  # type: ignore[index]  # SHOW answers one row
        raise TooManyWorkers(
            f"{count(workers, 'worker')} need {count(needed, 'connection')} "
            f"but the server accepts only {free} more "
            f"(max_connections = {max_connections}); use at most {max(0, free - OWN_CONNECTIONS)} workers"
        )
