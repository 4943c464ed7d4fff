"""One cell of a matrix: set up its rows, start the workers behind a barrier, watch the clock,
stop them (cancelling queries still in flight), and check the invariant.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass

import psycopg
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from concord.errors import ConcordError, translate
from concord.locking import RetryPolicy
from concord.race.executors import RunningCell, get_executor
from concord.race.experiment import Cell
from concord.race.job import ops_shares
from concord.race.loop import heap_frozen
from concord.race.plan import PlannedCell, RunPlan
from concord.race.results import CellResult, CellTotals, verdict
from concord.race.scenarios.scenario import BrokenContract, CellRefused, InvariantVerdict
from concord.race.waits.server import FORCE_FLUSH, flush_statistics
from concord.race.waits.watch import Waits
from concord.race.worker import WorkerJob, WorkerReport, retry_kinds

#: Attempt traces kept per cell, shared out between its workers (each keeps its first N).
TRACE_LINES_PER_CELL = 20_000
READY_TIMEOUT_S = 60.0
#: After the deadline, workers finish the operation in hand; past this grace period their
#: queries are cancelled.
STOP_GRACE_S = 1.5


@dataclass(frozen=True)
class Progress:
    """What the live display shows while a cell runs."""

    cell_index: int
    cells: int
    cell: Cell
    elapsed_s: float
    duration_s: float | None
    commits: int
    conflicts: int


ProgressCallback = Callable[[Progress], None]


class CellRunner:
    """One cell: fixture, workers, deadline, stop, invariant."""

    def __init__(
        self,
        plan: RunPlan,
        planned: PlannedCell,
        engine: sa.Engine,
        dsn: str,
        control: psycopg.Connection,
        waits: Waits | None = None,
    ) -> None:
        self.experiment, self.scenario = plan.experiment, plan.scenario
        self.cell, self.strategy = planned.cell, planned.strategy
        self.engine, self.dsn, self.control = engine, dsn, control
        self.waits = waits.cell(self.experiment.executor, self.strategy.name) if waits else None

    def run(self, index: int, cells: int, on_progress, on_running) -> CellResult:
        try:
            with self.engine.begin() as conn:
                fixture = self.scenario.setup(conn, self.cell.workers, self.experiment.ops)
                if self.waits and (conn.dialect.server_version_info or (0,)) >= (15,):
                    conn.execute(sa.text(FORCE_FLUSH))  # the set-up counts before the cell, not in it
        except CellRefused as refused:  # a user's setup failed: this cell is recorded, the run goes on
            return self.result(None, [], [], 0.0, False, refused=refused.message)
        jobs = self.jobs(fixture)
        running: RunningCell | None = None
        pids: dict[int, int | None] = {}
        interrupted, started = False, time.perf_counter()
        with heap_frozen():
            try:
                running = get_executor(self.experiment.executor).start(jobs)
                pids = running.wait_ready(READY_TIMEOUT_S)
                if self.waits:
                    self.waits.start(pids, running)
                running.go()
                started = time.perf_counter()
                if on_running:
                    on_running(running)
                self.watch(running, started, index, cells, on_progress)
            except KeyboardInterrupt:
                if running is None:  # interrupted while starting: the executor stopped what it started
                    raise
                interrupted = True
            except BaseException:  # a failing callback or a lost control connection: stop, then report
                if self.waits:
                    self.waits.stop()
                if running is not None:
                    self.stop(running, pids, cancel=True)
                raise
            stopped = time.perf_counter()
            if self.waits:  # the profile covers the race, not the stopping
                self.waits.stop()
            reports, deaths = self.stop(running, pids, cancel=interrupted)
        return self.result(fixture, reports, deaths, ran_for(started, stopped, reports), interrupted)

    def jobs(self, fixture) -> list[WorkerJob]:
        program = self.scenario.program(self.strategy, fixture)
        workers = self.cell.workers
        cap, shares = trace_cap(workers), ops_shares(self.experiment.ops, workers)
        settings = self.experiment.session_settings()
        if self.waits:
            settings += self.waits.settings()
        return [
            WorkerJob(
                worker=w,
                dsn=self.dsn,
                isolation=self.cell.isolation,
                program=program,
                policy=RetryPolicy(max_tries=self.experiment.max_tries),
                retry_on=retry_kinds(self.strategy.retries),
                ops=shares[w],
                trace_cap=cap,
                seed=self.experiment.seed * 100_003 + w,
                settings=settings,
            )
            for w in range(workers)
        ]

    def watch(self, running: RunningCell, started: float, index: int, cells: int, on_progress) -> None:
        duration = self.experiment.duration_s
        while not running.finished():
            elapsed = time.perf_counter() - started
            if duration is not None and elapsed >= duration:
                return
            if on_progress:
                commits, conflicts = running.progress()
                on_progress(Progress(index, cells, self.cell, elapsed, duration, commits, conflicts))
            time.sleep(0.05 if duration is None else min(0.1, max(0.001, duration - elapsed)))

    def stop(self, running: RunningCell, pids: dict[int, int | None], *, cancel: bool):
        """Stop the workers; cancel queries still in flight; kill what does not stop."""
        running.stop()
        if not cancel:
            reports, deaths = running.collect(STOP_GRACE_S)
            if not deaths and running.finished():
                return reports, deaths
        signaller = (self.waits.signaller() if self.waits else None) or self.control
        cancel_backends(signaller, [pid for pid in pids.values() if pid])
        reports, deaths = running.collect(1.0 if cancel else 3.0)
        killed = running.kill_stragglers()
        if killed or not running.finished():
            # Whatever still runs must not keep row locks the check and teardown need: end the
            # sessions (a thread cannot be killed, its connection can).
            terminate_backends(signaller, [pid for pid in pids.values() if pid])
        return reports, deaths

    def result(
        self,
        fixture,
        reports: list[WorkerReport],
        deaths,
        elapsed: float,
        interrupted: bool,
        *,
        refused: str | None = None,
    ) -> CellResult:
        totals = CellTotals.of(reports, dead_workers=frozenset(d.worker for d in deaths))
        # Before the check: the server's counters cover the workers, not the check's own reads.
        waits, server = self.waits.finish(reports, totals, hurry=interrupted) if self.waits else (None, None)
        if refused is None:
            found = self.check(fixture, totals)
        else:
            found = InvariantVerdict(None, f"refused: {refused}", error=refused)
        violations, finding, details = found.violations, found.finding, found.details
        if found.error:
            judged = finding if refused else f"error: {found.error}"
        else:
            judged = verdict(
                violations, finding, totals.conflicts, retries=totals.retries, failures=totals.failures
            )
        return CellResult(
            scenario=self.cell.scenario,
            strategy=self.cell.strategy,
            isolation=self.cell.isolation,
            executor=self.experiment.executor,
            workers=self.cell.workers,
            duration_s=round(elapsed, 3),
            attempts=totals.attempts,
            commits=totals.commits,
            retries=totals.retries,
            failures=totals.failures,
            conflicts=totals.conflicts,
            violations=violations,
            invariant=self.scenario.invariant,
            throughput=totals.throughput(elapsed),
            latency_ms=totals.latency.percentiles_ms(),
            verdict=judged,
            finding=finding,
            operations={"done": totals.done, "declined": totals.declined, "gave_up": totals.failures},
            details=details,
            worker_errors=list(totals.worker_errors),
            dead_workers=[{"worker": d.worker, "reason": d.reason} for d in deaths],
            interrupted=interrupted,
            trace=totals.trace(trace_cap(self.cell.workers)),
            latency_hdr=totals.latency.document(),
            error=found.error,
            waits=waits,
            server=server,
            traces=totals.traces,
        )

    def check(self, fixture, totals: CellTotals) -> InvariantVerdict:
        try:
            with self.engine.begin() as conn:
                # Bounded: a session the stop could not end must not hang the run here.
                conn.execute(sa.text("SELECT set_config('lock_timeout', '10s', true)"))
                found = self.scenario.check(conn, fixture, totals)
                self.scenario.teardown(conn, fixture)
        except BrokenContract:  # a user scenario's check returned no list: the run stops (exit 2)
            raise
        except (DBAPIError, ConcordError) as exc:
            error = translate(exc)
            return InvariantVerdict(None, f"could not read the database ({error})")
        return found


def ran_for(started: float, stopped: float, reports: list[WorkerReport]) -> float:
    """Seconds from the start signal until the last worker's last operation ended.

    A worker finishes the operation in hand after the deadline, and its commit is counted, so
    the time it took is counted too: throughput is commits over the time they were made in,
    never commits over the nominal duration. ``stopped`` (when the coordinator stopped watching)
    stands in when no worker reported its stop, e.g. every one died.
    """
    ends = [r.stopped_at for r in reports if r.stopped_at is not None]
    return max(ends, default=stopped) - started


def trace_cap(workers: int) -> int:
    """Trace lines each worker keeps: its share of the cell's, at least 10."""
    return max(10, TRACE_LINES_PER_CELL // workers)


#: Only backends still there are signalled: a worker that already stopped has closed its session,
#: and signalling its pid drew "PID N is not a PostgreSQL backend process" warnings in the log.
_SIGNAL_LIVE = "SELECT pg_{}_backend(pid) FROM pg_stat_activity WHERE pid = ANY(%s)"


def cancel_backends(control: psycopg.Connection, pids: list[int]) -> None:
    """Cancel whatever the workers' backends are running (a lock wait, usually)."""
    if pids:
        _quietly(control, _SIGNAL_LIVE.format("cancel"), pids)


def terminate_backends(control: psycopg.Connection, pids: list[int]) -> None:
    """End the sessions of workers that could not be stopped: their transactions roll back."""
    if pids:
        _quietly(control, _SIGNAL_LIVE.format("terminate"), pids)


def _quietly(control: psycopg.Connection, sql: str, pids: list[int]) -> None:
    with contextlib.suppress(psycopg.Error):  # the server is gone; its backends are too
        control.execute(sql, (pids,))
        flush_statistics(control)  # the signal's own statement counts now, not in a later cell
