"""The race loop, written once: a worker's operations, attempt by attempt, and their accounting.

Every way of racing drives the same loop: a thread or a child process over blocking libpq
(`concord.race.worker`), a task's callbacks on an event loop over non-blocking libpq
(`concord.race.worker_async`), and an asyncio task over HTTP (`concord.race.http`). They differ
only in how one attempt's statements travel, so the loop is a generator that says what to do
next and is told how it went:

- it yields an *operation* (whatever the program's ``operation(worker, seq)`` made: a generator
  of SQL steps, or an HTTP attempt): the driver runs it as one attempt and sends back its
  `Outcome`, or, when the attempt failed, rolls back and throws the exception in;
- it yields a ``float``: the driver pauses that many seconds (the backoff before a retry) and
  sends back whether a stop was asked meanwhile.

It returns when the worker is done: stopped, its share of operations run, or nothing left to do.
`Fatal` (an error retrying cannot help) escapes from it; everything else is accounted in the
worker's `Ledger`: attempts, commits, conflicts by kind, give-ups, latencies, traces and the
live progress counters. Which failures are retried, how often and how long to wait between tries
is `concord.locking.retry`'s one policy, keyed by the kinds of `concord.errors`.
"""

from __future__ import annotations

import contextlib
import gc
import random
import time
from collections.abc import Callable, Generator, Iterator, MutableSequence
from typing import Any, Protocol

from concord.errors import ConcordError, LockTimeout, StatementTimeout, kind_of
from concord.locking.retry import ALWAYS_RETRIED, RetryPolicy
from concord.race.job import Control, WorkerJob, WorkerReport
from concord.race.steps import Outcome, RowMissed, Status

#: Retried whatever the strategy: SKIP LOCKED (or a FOR UPDATE whose row was taken while it
#: waited) found no free row although the backlog is not empty.
SCENARIO_RETRIES = frozenset({RowMissed.kind})
#: The run's own timeouts (``lock_timeout``, ``statement_timeout``): conflicts of their own kind,
#: retried like a NOWAIT failure (the whole transaction, bounded by max_tries). How they are told
#: apart from NOWAIT and from a cancel: `concord.errors.error_class`.
TIMEOUT_RETRIES = frozenset({LockTimeout.kind, StatementTimeout.kind})

#: Read per transaction: module constants, not enum attribute lookups (see concord.race.libpq).
_DONE, _DECLINED, _EXHAUSTED = Status.DONE, Status.DECLINED, Status.EXHAUSTED
_COMMITTED = ("committed", None)  # a committed attempt's outcome and SQLSTATE, in its trace line
_clock = time.perf_counter
#: Committed operations' latencies a worker collects before counting them in its histogram.
LATENCY_BATCH = 1024


def retry_kinds(strategy_retries: frozenset[str]) -> frozenset[str]:
    """Every failure kind a race retries under a strategy that retries ``strategy_retries``."""
    return ALWAYS_RETRIED | strategy_retries | SCENARIO_RETRIES | TIMEOUT_RETRIES


class Stopped(Exception):
    """The coordinator asked the worker to stop while it was waiting or querying."""


class Fatal(Exception):
    """An attempt failed in a way retrying cannot help (server gone, a bug, a bad statement)."""


class Abandoned(ConcordError):
    """An attempt failed in a way the race survives but cannot retry: the operation ends
    unfinished, the error is reported, and the worker goes on with its next operation (a race
    through HTTP: an unexpected status, or a request whose fate is unknown)."""

    def __init__(self, message: str, kind: str = "error") -> None:
        super().__init__(message)
        self.kind = kind


class Operations(Protocol):
    """What the loop needs of a program: the next attempt of operation ``seq`` (None: nothing left)."""

    def operation(self, worker: int, seq: int) -> Any: ...


#: How many abandoned operations' errors a worker keeps (the count is exact).
ERRORS_KEPT = 20


class Ledger:
    """The accounting of one worker: attempts, outcomes, latencies, traces, live progress.

    Times are ``time.perf_counter()`` readings, one per attempt's start and end (a monotonic
    clock, so a latency never goes negative). ``progress`` is the executor's flat array of live
    counters: ``[2w]`` commits and ``[2w + 1]`` conflicts of worker ``w``.

    A commit, once per transaction and between two of the server's answers, is kept short: its
    trace line is the four numbers that vary, ``(seq, attempt, started, ended)``, and its latency
    waits in a list of `LATENCY_BATCH` to be counted in the histogram in one loop (a failed
    attempt's line is ``(seq, attempt, started, ended, outcome, sqlstate)``). `close` gives
    every line the worker, its outcome and wall-clock times, and counts the latencies left, once
    the race is over. Counted in one warm loop, a latency costs a fraction of what it cost
    counted alone between two statements, where the caches are cold and every microsecond keeps
    the server waiting (benchmarks/README.md, "the gaps between statements").
    """

    def __init__(
        self,
        report: WorkerReport,
        *,
        seed: int,
        policy: RetryPolicy,
        retry_on: frozenset[str],
        trace_cap: int,
        progress: MutableSequence[int],
        stopping: Callable[[], bool],
    ) -> None:
        self.report, self.worker = report, report.worker
        self.rng = random.Random(seed)
        self.policy, self.retry_on, self.cap = policy, retry_on, trace_cap
        self.progress, self.slot, self.stopping = progress, 2 * report.worker, stopping
        self.traces = report.traces  # `close` replaces the report's list; until then, this one
        self.latencies: list[float] = []  # committed operations' latencies not yet counted
        self.wall_offset = time.time() - time.perf_counter()

    @classmethod
    def for_job(cls, job: WorkerJob, report: WorkerReport, control: Control) -> Ledger:
        """The ledger of a direct race's worker (its job's rules, its executor's counters)."""
        return cls(
            report,
            seed=job.seed,
            policy=job.policy,
            retry_on=job.retry_on,
            trace_cap=job.trace_cap,
            progress=control.progress,
            stopping=control.stopping,
        )

    def failed(
        self, seq: int, attempt: int, started: float, exc: BaseException, op_started: float
    ) -> float | None:
        """Record a failed attempt; the pause before retrying, or None to give up (the
        operation's latency, from ``op_started``, is then recorded as a give-up). Raises
        `Stopped` for the coordinator's own cancel, `Abandoned` and `Fatal` as they say."""
        kind, state = kind_of(exc)
        ended = _clock()
        self._trace(seq, attempt, started, ended, kind, state)
        report = self.report
        report.attempts += 1
        if kind == "query_canceled" and self.stopping():
            raise Stopped from exc
        if isinstance(exc, Abandoned):
            report.abandoned += 1
            if len(report.errors) < ERRORS_KEPT:
                report.errors.append(first_line(exc))
            raise exc
        if kind not in self.retry_on:
            raise Fatal(f"{kind}{f' ({state})' if state else ''}: {first_line(exc)}") from exc
        report.conflicts[kind] = report.conflicts.get(kind, 0) + 1
        self.progress[self.slot + 1] += 1
        pause = self.policy.pause_after(attempt, self.rng)
        if pause is None:
            report.failures += 1
            report.latency.record_gave_up(ended - op_started)
        else:
            report.retries += 1
        return pause

    def committed(self, seq: int, attempt: int, started: float, op_started: float, outcome: Outcome) -> None:
        """Record an operation's committed attempt. A worker's last transaction, the one that
        found nothing left (EXHAUSTED), is no operation: no attempt, commit, latency or trace."""
        status = outcome.status
        report = self.report
        if status is _EXHAUSTED:
            report.empty_commits += 1
            report.exhausted = True
            return
        ended = _clock()
        latencies = self.latencies
        latencies.append(ended - op_started)
        if len(latencies) == LATENCY_BATCH:
            report.latency.record_all(latencies)
            latencies.clear()
        traces = self.traces
        if len(traces) < self.cap:  # `_trace`, inlined and shorter: this runs once per transaction
            traces.append((seq, attempt, started, ended))
        else:
            report.traces_dropped += 1
        report.attempts += 1
        if status is _DONE:
            report.done += 1
            if outcome.payload is not None:
                report.payloads.append(outcome.payload)
        elif status is _DECLINED:
            report.declined += 1
        self.progress[self.slot] += 1

    def _trace(
        self, seq: int, attempt: int, started: float, ended: float, outcome: str, state: str | None
    ) -> None:
        traces = self.traces
        if len(traces) < self.cap:
            traces.append((seq, attempt, started, ended, outcome, state))
        else:
            self.report.traces_dropped += 1

    def close(self) -> None:
        """After the race: count the latencies still waiting, and give every trace line its
        worker, its outcome and wall-clock times (seconds since the epoch)."""
        report = self.report
        report.latency.record_all(self.latencies)
        self.latencies = []
        offset, worker = self.wall_offset, self.worker
        report.traces = [
            (worker, seq, attempt, started + offset, ended + offset, *(failure or _COMMITTED))
            for seq, attempt, started, ended, *failure in self.traces
        ]


def race_loop(program: Operations, ops: int | None, ledger: Ledger) -> Generator[Any, Any, None]:
    """One worker's race: yields operations to run and pauses to wait out (see the module's
    docstring for the protocol); returns when stopped, when ``ops`` operations are done, or when
    the program has nothing left. Closing the generator (or its end) stamps the report's
    ``stopped_at`` and gives the traces wall-clock times."""
    report, worker, stopping, perf = ledger.report, ledger.worker, ledger.stopping, time.perf_counter
    seq = 0
    try:
        while not stopping() and (ops is None or seq < ops):
            op_started = started = perf()
            attempt = 0
            while True:
                attempt += 1
                operation = program.operation(worker, seq)
                if operation is None:
                    report.exhausted = True
                    return
                try:
                    outcome = yield operation
                except Exception as exc:  # the attempt failed; the driver has rolled it back
                    try:
                        pause = ledger.failed(seq, attempt, started, exc, op_started)
                    except Abandoned:
                        break
                    except Stopped:
                        return
                    if pause is None:  # gave up: on to the next operation
                        break
                    if stopping() or (yield pause):  # a stop asked before or during the pause
                        return
                    started = perf()
                    continue
                ledger.committed(seq, attempt, started, op_started, outcome)
                if report.exhausted:
                    return
                break
            seq += 1
    finally:
        report.stopped_at = perf()
        ledger.close()


@contextlib.contextmanager
def heap_frozen() -> Iterator[None]:
    """Keep the garbage collector off the objects that exist before a race, while it runs.

    A full collection walks every object in the process: in the coordinator, everything the
    command line imported (SQLAlchemy, Rich, Typer): 40 to 100 ms on this kind of machine. It
    comes now and then (once in a 20-second counter race), in whichever worker thread allocates
    at the time, and every thread waits for it, the one holding the row lock too: it was the
    race's slowest operation (benchmarks/README.md, "the collector's pause"). Frozen objects are
    left out of collections (``gc.freeze``); what the race itself allocates is still collected.
    They are handed back when the race ends, unless the process had frozen objects of its own
    before (its owner's choice, left as it was).
    """
    owned = gc.get_freeze_count() == 0
    gc.freeze()
    try:
        yield
    finally:
        if owned:
            gc.unfreeze()


def first_line(exc: BaseException) -> str:
    """An exception's message, first line only (its class name when it has none)."""
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
