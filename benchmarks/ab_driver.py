"""A/B the workers' hand-written libpq path against psycopg's own prepared path, on one loop.

    python benchmarks/ab_driver.py [rounds] [duration_s] [workers ...]

Issue 23 asks that hand-written driver code stay only where it measurably pays. A is concord's
`LibpqSession` (statements prepared once per connection, run with ``PQexecPrepared`` on
psycopg's libpq object, results loaded by hand). B is the same interface on psycopg's cursor:
``cursor.execute(sql, params, prepare=True)`` for every step, BEGIN and COMMIT included, which is
psycopg's documented way to run a statement as a server-side prepared statement, and
``fetchone()`` / ``rowcount`` for the results. Everything else is concord's one worker loop,
unchanged: the threads executor, `counter` under `pessimistic` (calibrate's transaction), on the
embedded server, each side in turn with the order alternating by round. Prints each round's
commits per second, the per-round B/A ratios and their medians per worker count.
"""

from __future__ import annotations

import statistics
import sys
from typing import Any

import psycopg

import concord.race.worker as worker_module
from concord.calibrate import run_concord
from concord.db.urls import resolve_url
from concord.race.libpq import LibpqSession
from concord.race.steps import Fetch, Sql

_OPEN = {psycopg.pq.TransactionStatus.INTRANS, psycopg.pq.TransactionStatus.INERROR}


class PsycopgSession:
    """`LibpqSession`'s interface on psycopg's cursor with ``prepare=True``."""

    def __init__(self, conn: psycopg.Connection, isolation: str, settings: tuple[tuple[str, str], ...] = ()):
        conn.execute(f"SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL {isolation.upper()}")
        for name, value in settings:
            conn.execute("SELECT set_config(%s, %s, false)", (name, value))
        self.conn, self.cursor = conn, conn.cursor()

    def begin(self) -> None:
        self.cursor.execute("BEGIN", prepare=True)

    def commit(self) -> None:
        self.cursor.execute("COMMIT", prepare=True)

    def in_transaction(self) -> bool:
        return self.conn.info.transaction_status in _OPEN

    def rollback(self) -> None:
        if self.in_transaction():
            self.cursor.execute("ROLLBACK")

    def execute(self, sql: Sql, params: dict[str, Any]) -> Any:
        cursor = self.cursor
        cursor.execute(sql.text, sql.bind(params), prepare=True)
        fetch = sql.fetch
        if fetch is Fetch.ROWCOUNT:
            return cursor.rowcount
        if fetch is Fetch.NOTHING:
            return None
        row = cursor.fetchone()
        if fetch is Fetch.SCALAR:
            return None if row is None else row[0]
        return row


SIDES = {"A libpq": LibpqSession, "B psycopg": PsycopgSession}


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    duration = float(sys.argv[2]) if len(sys.argv) > 2 else 3.0
    worker_counts = [int(w) for w in sys.argv[3:]] or [1, 8, 50]
    url = str(resolve_url(None))
    found = {(side, w): [] for side in SIDES for w in worker_counts}
    for number in range(rounds):
        for workers in worker_counts:
            order = list(SIDES) if number % 2 == 0 else list(reversed(SIDES))
            for side in order:
                worker_module.LibpqSession = SIDES[side]  # type: ignore[misc,assignment]
                found[(side, workers)].append(run_concord(url, workers, "threads", duration))
            print(number, workers, {s: round(found[(s, workers)][-1]) for s in SIDES}, flush=True)
    worker_module.LibpqSession = LibpqSession  # type: ignore[misc]
    for workers in worker_counts:
        a, b = found[("A libpq", workers)], found[("B psycopg", workers)]
        ratios = [y / x for x, y in zip(a, b, strict=True)]
        print(
            f"{workers:>3} workers: A median {statistics.median(a):,.0f} tps, B median "
            f"{statistics.median(b):,.0f} tps; B/A per round {' '.join(f'{r:.3f}' for r in ratios)}, "
            f"median {statistics.median(ratios):.3f}"
        )


if __name__ == "__main__":
    main()
