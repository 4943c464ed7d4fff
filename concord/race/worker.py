"""One racing worker: a connection held for the whole run, operations, retries, bookkeeping.

The same loop runs in a thread or a child process (`run_worker`) and as an asyncio task
(`concord.race.worker_async`). Per transaction a worker does only this: ``BEGIN``, the
operation's statements (prepared once per connection and run through libpq, see
`concord.race.libpq`), ``COMMIT``, and a few counters. The isolation level is set once per
connection. The asyncio worker runs the same statements without blocking the event loop.

A worker stops when the coordinator sets ``stop`` (between operations; a query in flight is
cancelled by the coordinator with ``pg_cancel_backend``), when its share of ``--ops`` is done, or
when its scenario has nothing left. It never lets an exception escape: a fatal error (the server
went away) is recorded in its report.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

import psycopg

from concord.errors import LockTimeout, StatementTimeout
from concord.locking.retry import ALWAYS_RETRIED, RetryPolicy, classify
from concord.race.latency import Latencies
from concord.race.libpq import LibpqSession
from concord.race.scenarios.program import Program
from concord.race.steps import Outcome, RowMissed, Status, drive

#: Retried whatever the strategy: SKIP LOCKED (or a FOR UPDATE whose row was taken while it
#: waited) found no free row although the backlog is not empty.
SCENARIO_RETRIES = frozenset({RowMissed.kind})
#: The run's own timeouts (``lock_timeout``, ``statement_timeout``): conflicts of their own kind,
#: retried like a NOWAIT failure (the whole transaction, bounded by max_tries). How they are told
#: apart from NOWAIT and from a cancel: `concord.errors.error_class`.
TIMEOUT_RETRIES = frozenset({LockTimeout.kind, StatementTimeout.kind})


@dataclass
class WorkerJob:
    """Everything one worker needs, picklable so it can travel to a child process."""

    worker: int
    dsn: str
    isolation: str
    program: Program
    policy: RetryPolicy
    retry_on: frozenset[str]
    ops: int | None  # this worker's share of --ops, or None to run until stopped
    trace_cap: int
    seed: int
    settings: tuple[tuple[str, str], ...] = ()  # session settings (lock_timeout, statement_timeout)


@dataclass
class WorkerReport:
    """What one worker did, summed; sent back to the coordinator when the worker ends."""

    worker: int
    backend_pid: int | None = None
    attempts: int = 0
    done: int = 0
    declined: int = 0
    retries: int = 0
    failures: int = 0
    exhausted: bool = False
    conflicts: dict[str, int] = field(default_factory=dict)
    #: Each operation's latency, first attempt to commit or give-up (see concord.race.latency).
    latency: Latencies = field(default_factory=Latencies)
    payloads: list[Any] = field(default_factory=list)
    traces: list[tuple] = field(default_factory=list)
    traces_dropped: int = 0
    error: str | None = None
    #: ``time.perf_counter()`` when the worker's last operation ended (its race loop exited), or
    #: None if it never raced. CLOCK_MONOTONIC on Linux, one clock for every process, so the
    #: coordinator measures a cell until its last worker stopped, in-flight work included.
    stopped_at: float | None = None
    #: Transactions committed that found nothing left to do (EXHAUSTED): no operation, but a
    #: commit the server counts (the reconciliation with pg_stat_database needs them).
    empty_commits: int = 0

    @property
    def commits(self) -> int:
        return self.done + self.declined


class Control(Protocol):
    """The coordinator's side, as a worker sees it (threads, processes and asyncio differ)."""

    progress: Any  # a flat array: [2w] commits, [2w + 1] conflicts of worker w

    def ready(self, worker: int, backend_pid: int | None) -> None: ...
    def wait_go(self) -> bool: ...
    def stopping(self) -> bool: ...
    def pause(self, seconds: float) -> bool: ...  # sleep; True when stop was asked meanwhile


class Stopped(Exception):
    """The coordinator asked the worker to stop while it was waiting or querying."""


class Fatal(Exception):
    """An attempt failed in a way retrying cannot help (server gone, a bug, a bad statement)."""


def classify_attempt(exc: BaseException) -> tuple[str, str | None]:
    """The kind and SQLSTATE of a failed attempt (`RowMissed` is a typed error of its own)."""
    return classify(exc)


def retry_kinds(strategy_retries: frozenset[str]) -> frozenset[str]:
    return ALWAYS_RETRIED | strategy_retries | SCENARIO_RETRIES | TIMEOUT_RETRIES


class Book:
    """The accounting of one worker: attempts, outcomes, latencies, traces, live progress.

    Times are ``time.perf_counter()`` readings, one per attempt's start and end (a monotonic
    clock, so a latency never goes negative); `close` turns the traces' readings into wall-clock
    times once the race is over, so the hot path reads one clock.
    """

    def __init__(self, job: WorkerJob, report: WorkerReport, control: Control) -> None:
        import random

        self.job, self.report, self.control = job, report, control
        self.rng = random.Random(job.seed)
        self.worker, self.cap, self.progress = job.worker, job.trace_cap, control.progress
        self.slot = 2 * job.worker
        self.record = report.latency.record
        self.wall_offset = time.time() - time.perf_counter()

    def failed(
        self, seq: int, attempt: int, started: float, exc: BaseException, op_started: float
    ) -> float | None:
        """Record a failed attempt; the pause before retrying, or None to give up (the
        operation's latency, from ``op_started``, is then recorded as a give-up)."""
        kind, state = classify_attempt(exc)
        ended = time.perf_counter()
        self._trace(seq, attempt, started, ended, kind, state)
        report = self.report
        report.attempts += 1
        if kind == "query_canceled" and self.control.stopping():
            raise Stopped from exc
        if kind not in self.job.retry_on:
            raise Fatal(f"{kind}{f' ({state})' if state else ''}: {first_line(exc)}") from exc
        report.conflicts[kind] = report.conflicts.get(kind, 0) + 1
        self.progress[self.slot + 1] += 1
        if attempt >= self.job.policy.max_tries:
            report.failures += 1
            report.latency.record_gave_up(ended - op_started)
            return None
        report.retries += 1
        return self.job.policy.delay(attempt, self.rng)

    def committed(self, seq: int, attempt: int, started: float, op_started: float, outcome: Outcome) -> None:
        """Record an operation's committed attempt. A worker's last transaction, the one that
        found nothing left (EXHAUSTED), is no operation: no attempt, commit, latency or trace."""
        status = outcome.status
        if status is _EXHAUSTED:
            self.report.empty_commits += 1
            return
        ended = time.perf_counter()
        report = self.report
        traces = report.traces
        if len(traces) < self.cap:  # `_trace`, inlined: this runs once per transaction
            traces.append((self.worker, seq, attempt, started, ended, "committed", None))
        else:
            report.traces_dropped += 1
        report.attempts += 1
        if status is _DONE:
            report.done += 1
            if outcome.payload is not None:
                report.payloads.append(outcome.payload)
        elif status is _DECLINED:
            report.declined += 1
        self.record(ended - op_started)
        self.progress[self.slot] += 1

    def _trace(
        self, seq: int, attempt: int, started: float, ended: float, outcome: str, state: str | None
    ) -> None:
        traces = self.report.traces
        if len(traces) < self.cap:
            traces.append((self.worker, seq, attempt, started, ended, outcome, state))
        else:
            self.report.traces_dropped += 1

    def close(self) -> None:
        """Give the traces wall-clock times (seconds since the epoch), after the race."""
        offset = self.wall_offset
        self.report.traces = [
            (worker, seq, attempt, started + offset, ended + offset, outcome, state)
            for worker, seq, attempt, started, ended, outcome, state in self.report.traces
        ]


GAVE_UP = Outcome(Status.DECLINED, "gave up")
#: Read per transaction: module constants, not enum attribute lookups (see concord.race.libpq).
_DONE, _DECLINED, _EXHAUSTED = Status.DONE, Status.DECLINED, Status.EXHAUSTED


def run_worker(job: WorkerJob, control: Control) -> WorkerReport:
    """Connect, wait for the start signal, race until told to stop; never raises."""
    report = WorkerReport(job.worker)
    try:
        # autocommit: the libpq session sends BEGIN/COMMIT itself (see concord.race.libpq)
        conn = psycopg.connect(job.dsn, autocommit=True, application_name=application_name(job))
    except psycopg.Error as exc:
        report.error = f"worker {job.worker} could not connect: {first_line(exc)}"
        control.ready(job.worker, None)
        return report
    session: LibpqSession | None = None
    try:
        session = LibpqSession(conn, job.isolation, job.settings)
        job.program.attach(job.worker, session, job.seed)
        report.backend_pid = conn.info.backend_pid
        control.ready(job.worker, report.backend_pid)
        if control.wait_go():
            _race(job, session, control, report)
    except Fatal as exc:
        report.error = f"worker {job.worker}: {exc}"
    except Stopped:
        pass
    except psycopg.Error as exc:  # the session could not even be set up
        report.error = f"worker {job.worker}: {first_line(exc)}"
        control.ready(job.worker, None)
    finally:
        _close(conn, session)
    return report


def _race(job: WorkerJob, session: LibpqSession, control: Control, report: WorkerReport) -> None:
    book = Book(job, report, control)
    stopping, ops, seq = control.stopping, job.ops, 0
    try:
        while not stopping() and (ops is None or seq < ops):
            outcome = _operation(job, session, book, control, seq)
            if outcome is None or outcome.status is _EXHAUSTED:
                report.exhausted = True
                return
            seq += 1
    finally:
        report.stopped_at = time.perf_counter()
        book.close()


def _operation(
    job: WorkerJob, session: LibpqSession, book: Book, control: Control, seq: int
) -> Outcome | None:
    program, worker = job.program, job.worker
    op_started = started = time.perf_counter()
    attempt = 0
    while True:
        attempt += 1
        operation = program.operation(worker, seq)
        if operation is None:
            return None
        try:
            session.begin()
            outcome = drive(session.execute, operation)
            session.commit()
        except Exception as exc:
            _rollback(session)
            pause = book.failed(seq, attempt, started, exc, op_started)
            if pause is None:
                return GAVE_UP
            if control.pause(pause):
                raise Stopped from exc
            started = time.perf_counter()
            continue
        book.committed(seq, attempt, started, op_started, outcome)
        return outcome


def _rollback(session: LibpqSession) -> None:
    with contextlib.suppress(psycopg.Error):  # broken: the next statement reports it as fatal
        session.rollback()


def _close(conn: psycopg.Connection, session: LibpqSession | None) -> None:
    if session is not None:
        _rollback(session)  # never leave a transaction open behind us
    conn.close()


def application_name(job: WorkerJob) -> str:
    """How a worker's session shows in pg_stat_activity."""
    return f"concord race worker {job.worker}"


def first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
