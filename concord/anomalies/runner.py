"""The step runner: plays one script at one isolation level on real sessions.

Steps run strictly in script order. After sending a step the runner *settles*: it waits until
every statement in flight has either finished or is shown by the server to be waiting on a lock
(see `concord.anomalies.monitor`). A blocked step stays in flight while the script goes on with
the other sessions; when it finishes, the step that was just run is recorded as the one that
released it. Time limits apply only to waiting that the script cannot explain: a statement that
neither finishes nor waits on a lock, or a blocked statement the script needs to go on (its
session's next step, or the end of the script). Then the cell is an error, and `run_cell` still
rolls back and closes every session.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass

import psycopg

from concord.anomalies.levels import Level
from concord.anomalies.monitor import LockWait, Monitor
from concord.anomalies.script import ISOLATION, AnomalyTest
from concord.anomalies.session import Result, Session
from concord.anomalies.transcript import Outcome, StepRecord, Transcript

_FIRST_POLL_S = 0.001
_MAX_POLL_S = 0.05


class StepStuck(Exception):
    """A step waited longer than the step timeout for something the script does not provide."""


@dataclass
class CellRun:
    """One script at one level: the transcript, and why the run broke off if it did."""

    test: AnomalyTest
    level: Level
    transcript: Transcript
    error: str | None
    seconds: float


def run_cell(
    test: AnomalyTest, level: Level, *, dsn: str, schema: str, monitor: Monitor, step_timeout: float
) -> CellRun:
    """Set up the test's table, play its script, and always clean up the sessions."""
    transcript = Transcript()
    started = time.perf_counter()
    sessions: dict[str, Session] = {}
    error: str | None = None
    try:
        _prepare_schema(monitor.conn, schema, test.setup)
        for name in test.sessions:
            sessions[name] = Session.open(name, dsn, schema=schema)
        _Play(test, level, sessions, monitor, step_timeout, transcript).run()
    except StepStuck as exc:
        error = str(exc)
    except psycopg.Error as exc:
        error = f"the server failed outside the script: {exc.sqlstate or ''} {str(exc).strip()}".strip()
    finally:
        for session in sessions.values():
            session.close(monitor.terminate)
        _mark_unfinished(transcript)
    return CellRun(test, level, transcript, error, time.perf_counter() - started)


def _prepare_schema(conn: psycopg.Connection, schema: str, setup: tuple[str, ...]) -> None:
    """A clean schema per cell, so each script starts from exactly its own setup."""
    with conn.transaction():
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        conn.execute(f'CREATE SCHEMA "{schema}"')
        conn.execute(f'SET LOCAL search_path = "{schema}"')
        for statement in setup:
            conn.execute(statement)


def _mark_unfinished(transcript: Transcript) -> None:
    for record in transcript.records:
        if record.outcome is Outcome.UNFINISHED:
            record.note = record.note or "still running when the run stopped; cancelled and rolled back"


class _Play:
    """The state of one run: which steps are in flight, and on which session."""

    def __init__(
        self,
        test: AnomalyTest,
        level: Level,
        sessions: dict[str, Session],
        monitor: Monitor,
        step_timeout: float,
        transcript: Transcript,
    ) -> None:
        self.test = test
        self.level = level
        self.sessions = sessions
        self.monitor = monitor
        self.timeout = step_timeout
        self.transcript = transcript
        self.in_flight: dict[str, tuple[StepRecord, Future[Result]]] = {}
        self.names = {session.pid: name for name, session in sessions.items()}

    def run(self) -> None:
        for index, step in enumerate(self.test.steps, start=1):
            session = self.sessions[step.session]
            self._wait_for_session(session.name, index)
            record = StepRecord(index, step.session, step.sql.replace(ISOLATION, self.level.sql), step.label)
            self.transcript.records.append(record)
            if session.in_failed_transaction and record.sql.upper() not in ("COMMIT", "ROLLBACK"):
                record.outcome = Outcome.SKIPPED
                record.note = f"not sent: {session.name}'s transaction had already failed"
                continue
            params = step.params(self.transcript) if step.params else None
            record.params = list(params) if params is not None else None
            self.in_flight[session.name] = (record, session.submit(record.sql, params))
            self._settle(index)
        self._drain()

    def _settle(self, index: int) -> None:
        """After step ``index``: wait until all in flight is done or blocked; what finished, it released."""
        self._quiesce()
        _record_release(self._collect(), index)

    def _quiesce(self) -> None:
        """Wait until every statement in flight has finished or is shown waiting on a lock."""
        deadline = time.monotonic() + self.timeout
        poll = _FIRST_POLL_S
        while True:
            running = [
                (name, record, future)
                for name, (record, future) in self.in_flight.items()
                if not future.done()
            ]
            waits = self.monitor.lock_waits([self.sessions[name].pid for name, _, _ in running])
            still = []
            for name, record, future in running:
                wait_info = waits.get(self.sessions[name].pid)
                if wait_info is None:
                    still.append((record, future))
                else:
                    self._mark_blocked(record, wait_info)
            if not still:
                return
            if time.monotonic() > deadline:
                record = still[0][0]
                raise StepStuck(
                    f"step {record.index} ({record.session}: {record.sql}) neither finished nor "
                    f"waited on a lock within {self.timeout:g}s"
                )
            wait([future for _, future in still], timeout=poll, return_when=FIRST_COMPLETED)
            poll = min(poll * 2, _MAX_POLL_S)

    def _wait_for_session(self, name: str, index: int) -> None:
        """The script needs ``name`` again: its blocked statement must finish first."""
        self._wait_while(lambda: name in self.in_flight, name, f"needed by step {index}")

    def _drain(self) -> None:
        """The script is over: blocked statements must finish now."""
        self._wait_while(lambda: bool(self.in_flight), None, "at the end of the script")

    def _wait_while(self, waiting: Callable[[], bool], name: str | None, why: str) -> None:
        """Wait with no step to run. Of what ends (once all in flight is quiet again), a deadlock
        victim or else the earliest step is recorded as releasing the others."""
        deadline = time.monotonic() + self.timeout
        while waiting():
            futures = [future for _, future in self.in_flight.values()]
            left = max(0.0, deadline - time.monotonic())
            done, _ = wait(futures, timeout=left, return_when=FIRST_COMPLETED)
            if not done:
                raise self._stuck(name, why)
            self._quiesce()
            finished = self._collect()
            first = min(finished, key=lambda record: (record.sqlstate != "40P01", record.index))
            first.note = first.note or "finished while the runner waited, with no script step in between"
            _record_release(finished, first.index)

    def _stuck(self, name: str | None, why: str) -> StepStuck:
        record = self.in_flight[name][0] if name else next(iter(self.in_flight.values()))[0]
        holders = ", ".join(record.blocked_by) or "nobody the server names"
        return StepStuck(
            f"step {record.index} ({record.session}: {record.sql}) still waited on a lock "
            f"held by {holders} after {self.timeout:g}s, {why}"
        )

    def _collect(self) -> list[StepRecord]:
        """Record, and take out of flight, every statement that has finished."""
        finished = []
        for name, (record, future) in list(self.in_flight.items()):
            if future.done():
                del self.in_flight[name]
                _finish(record, future.result())
                finished.append(record)
        return finished

    def _mark_blocked(self, record: StepRecord, wait_info: LockWait) -> None:
        record.blocked = True
        for pid in wait_info.blockers:
            holder = self.names.get(pid, f"pid {pid}")
            if holder not in record.blocked_by:
                record.blocked_by.append(holder)


def _record_release(finished: list[StepRecord], releaser: int) -> None:
    """Blocked steps that finished after step ``releaser`` were released by it (a deadlock victim
    was ended by the server instead)."""
    for record in finished:
        if record.blocked and record.index != releaser and record.sqlstate != "40P01":
            record.released_by = releaser


def _finish(record: StepRecord, result: Result) -> None:
    if result.failed and result.sqlstate == "40P01":
        record.note = "chosen as the deadlock victim by the server"
    if result.failed:
        record.outcome = Outcome.FAILED
        record.sqlstate = result.sqlstate
        record.error = result.error
        return
    record.outcome = Outcome.OK
    record.command = result.command
    record.columns = result.columns
    record.rows = result.rows
