"""Support for the race tests (no tests here): stepping scenario operations by hand on real connections.

A `Racer` holds one psycopg connection at an isolation level and runs a scenario operation one
statement at a time: the test decides who executes which statement when (isolationtester style),
so a race happens because the test orders it, never by luck or sleeps.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import psycopg
import sqlalchemy as sa
from sqlalchemy import URL

from concord.locking import get_strategy
from concord.race.libpq import LibpqSession
from concord.race.results import CellTotals
from concord.race.scenarios import Fixture, Program, get_scenario
from concord.race.steps import Outcome


def dsn(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def url_text(url: URL) -> str:
    return url.render_as_string(hide_password=False)


class Racer:
    """One worker's connection, stepping one operation statement by statement."""

    def __init__(self, url: URL, isolation: str) -> None:
        self.conn = psycopg.connect(dsn(url), autocommit=True)
        self.session = LibpqSession(self.conn, isolation)  # the workers' own hot path
        self.pid = self.conn.info.backend_pid
        self.outcome: Outcome | None = None
        self._pending: Any = None
        self._op: Any = None

    def start(self, operation) -> Racer:
        self._op, self.outcome = operation, None
        self.session.begin()
        self._pending = next(operation)
        return self

    def step(self) -> None:
        """Execute the next statement and hand its result to the operation."""
        sql, params = self._pending
        value = self.session.execute(sql, params)
        try:
            self._pending = self._op.send(value)
        except StopIteration as done:
            self._pending, self.outcome = None, done.value

    def finish(self) -> Outcome:
        """Execute the remaining statements and commit."""
        while self._pending is not None:
            self.step()
        self.session.commit()
        assert self.outcome is not None
        return self.outcome

    def rollback(self) -> None:
        self.session.rollback()

    def close(self) -> None:
        self.conn.close()


def in_thread(fn) -> tuple[threading.Thread, dict[str, Any]]:
    """Run ``fn`` in a thread; the dict receives its 'result' or its 'error'."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["result"] = fn()
        except Exception as exc:
            box["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, box


def wait_until_blocked(url: URL, pid: int, timeout: float = 10.0) -> None:
    """Return once backend ``pid`` waits for a lock (a condition polled, not a sleep that hopes)."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(dsn(url), autocommit=True) as conn:
        while time.monotonic() < deadline:
            query = "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s"
            row = conn.execute(query, (pid,)).fetchone()
            if row and row[0] == "Lock":
                return
            time.sleep(0.005)
    raise AssertionError(f"backend {pid} never waited for a lock")


class Cell:
    """A scenario's fixture and program in a test database, checked like the engine does."""

    def __init__(self, url: URL, scenario: str, strategy: str, workers: int, ops: int | None = None) -> None:
        self.url = url
        self.scenario = get_scenario(scenario)
        self.engine = sa.create_engine(url, poolclass=sa.NullPool)
        with self.engine.begin() as conn:
            self.fixture: Fixture = self.scenario.setup(conn, workers, ops)
        self.program: Program = self.scenario.program(get_strategy(strategy), self.fixture)

    def check(self, outcomes: dict[int, list[Outcome]], exhausted: int = 0):
        """The invariant, given what each worker was told."""
        done = [(w, o) for w, told in outcomes.items() for o in told if o.status.value == "done"]
        totals = CellTotals(
            done=len(done),
            declined=sum(1 for told in outcomes.values() for o in told if o.status.value == "declined"),
            payloads=[(w, o.payload) for w, o in done if o.payload is not None],
            exhausted_workers=exhausted,
        )
        with self.engine.connect() as conn:
            return self.scenario.check(conn, self.fixture, totals)

    def close(self) -> None:
        self.engine.dispose()


def sessions_left(url: URL, timeout: float = 3.0) -> int:
    """Sessions on the test database other than the asking one, once they had ``timeout`` to go.

    A backend whose client closed its connection leaves pg_stat_activity a moment later (the
    server notices asynchronously), so this polls for zero rather than sampling once.
    """
    deadline = time.monotonic() + timeout
    with psycopg.connect(dsn(url), autocommit=True) as conn:
        query = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> %s"
        while True:
            left = conn.execute(query, (conn.info.backend_pid,)).fetchone()[0]
            if left == 0 or time.monotonic() >= deadline:
                return left
            time.sleep(0.02)
