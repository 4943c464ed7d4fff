"""The server's own counters over a cell: deltas of ``pg_stat_database``, reconciled with what
the workers counted.

The row is the race database's (``datname``), so other databases on the server (other tests,
other users) do not count; other sessions of the same database do (the coordinator's own
statements, autovacuum), and the reconciliation says so when its numbers differ.

Counters reach ``pg_stat_database`` when a backend flushes them: when it goes idle at most once a
second, and when it exits. Workers flush their set-up before the start (the libpq session asks
for it), and the last counts when their sessions end, so `settled` waits for the workers'
backends to leave and for the row to stop changing before the final reading.
"""

from __future__ import annotations

import time
from typing import Any

import psycopg

#: Counters reported per cell, when the server has them (PostgreSQL 14 added the session ones).
COUNTERS = (
    "xact_commit",
    "xact_rollback",
    "deadlocks",
    "conflicts",
    "tup_inserted",
    "tup_updated",
    "tup_deleted",
    "blks_read",
    "blks_hit",
    "temp_files",
    "sessions",
    "sessions_abandoned",
    "sessions_killed",
)
FORCE_FLUSH = "SELECT pg_stat_force_next_flush()"
READ = "SELECT row_to_json(d) FROM pg_stat_database d WHERE datname = %s"
GONE_WITHIN_S = 5.0
SETTLE_STEP_S = 0.02
SETTLE_WITHIN_S = 1.0


def flush_statistics(conn: psycopg.Connection) -> None:
    """Have this session's counts reach pg_stat_database when its statement ends (PostgreSQL
    15+), not up to ten seconds later, in the middle of some cell."""
    if conn.info.server_version >= 150000:
        conn.execute(FORCE_FLUSH)


def read_counters(conn: psycopg.Connection, database: str) -> dict[str, int]:
    """The race database's counters now (a fresh statistics snapshot: autocommit)."""
    row = conn.execute(READ, (database,)).fetchone()
    found = row[0] if row else {}
    return {name: int(found[name]) for name in COUNTERS if found.get(name) is not None}


def settled(conn: psycopg.Connection, database: str, pids: list[int]) -> dict[str, int]:
    """The counters once the workers' backends have left and the row stopped changing (bounded:
    a backend that does not leave within seconds is reported as it stands)."""
    deadline = time.monotonic() + GONE_WITHIN_S
    while time.monotonic() < deadline and pids:
        row = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", (pids,)).fetchone()
        if not row or row[0] == 0:
            break
        time.sleep(SETTLE_STEP_S)
    # A backend leaves pg_stat_activity just before it flushes its last counts: read until two
    # readings agree.
    last, deadline = read_counters(conn, database), time.monotonic() + SETTLE_WITHIN_S
    while time.monotonic() < deadline:
        time.sleep(SETTLE_STEP_S)
        now = read_counters(conn, database)
        if now == last:
            break
        last = now
    return last


def delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {name: after[name] - before[name] for name in after if name in before}


def reconcile(counters: dict[str, int], clients: dict[str, int]) -> list[dict[str, Any]]:
    """Each server counter beside the clients' own count of the same thing, and whether they
    match. ``clients``: ``deadlocks`` (40P01 errors), ``rollbacks`` (failed attempts, each rolled
    back once) and ``commits`` (the operations' and the empty last ones of workers that ran out of
    work)."""
    out = []

    def line(counter: str, client: int, explain: str | None = None) -> None:
        server = counters.get(counter)
        if server is None:
            return
        entry: dict[str, Any] = {
            "counter": counter,
            "server": server,
            "clients": client,
            "match": server == client,
        }
        if server != client and explain:
            entry["note"] = explain
        out.append(entry)

    line("deadlocks", clients["deadlocks"], "deadlocks the workers did not report as 40P01")
    line(
        "xact_rollback",
        clients["rollbacks"],
        "other sessions of the database roll back too (the coordinator's, autovacuum's)",
    )
    line(
        "xact_commit",
        clients["commits"],
        "other sessions of the database commit too (the coordinator's own statements, autovacuum)",
    )
    return out


def mismatches(reconciliation: list[dict[str, Any]]) -> list[str]:
    """One line per counter the server and the clients disagree on."""
    return [
        f"{r['counter']}: server {r['server']:,}, clients {r['clients']:,}"
        + (f" ({r['note']})" if r.get("note") else "")
        for r in reconciliation
        if not r["match"]
    ]
