"""One racing worker on blocking libpq: a connection held for the whole run, in a thread or a
child process.

Per transaction a worker does only this: ``BEGIN``, the operation's statements (prepared once per
connection and run through libpq, see `concord.race.libpq`), ``COMMIT``, and a few counters. The
isolation level is set once per connection. What to run next, what to retry and how it is
accounted is the one race loop, `concord.race.loop`; this module only runs its attempts.

A worker stops when the coordinator sets ``stop`` (between operations; a query in flight is
cancelled by the coordinator with ``pg_cancel_backend``), when its share of ``--ops`` is done, or
when its scenario has nothing left. It never lets an exception escape: a fatal error (the server
went away) is recorded in its report.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import psycopg

from concord.race.job import Control, WorkerJob, WorkerReport
from concord.race.libpq import LibpqSession
from concord.race.loop import Fatal, Ledger, Stopped, first_line, race_loop, retry_kinds

__all__ = [
    "Control",
    "Fatal",
    "Ledger",
    "Stopped",
    "WorkerJob",
    "WorkerReport",
    "application_name",
    "first_line",
    "retry_kinds",
    "run_worker",
]


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
        with how_it_ended(job, report, control):
            session = LibpqSession(conn, job.isolation, job.settings)
            job.program.attach(job.worker, session, job.seed)
            report.backend_pid = conn.info.backend_pid
            control.ready(job.worker, report.backend_pid)
            if control.wait_go():
                _race(job, session, control, report)
    finally:
        _close(conn, session)
    return report


@contextlib.contextmanager
def how_it_ended(job: WorkerJob, report: WorkerReport, control: Control) -> Iterator[None]:
    """Record in ``report`` what ended a connected worker early (for every session kind): a
    fatal error, the coordinator's stop, or a session that could not even be set up."""
    try:
        yield
    except Fatal as exc:
        report.error = f"worker {job.worker}: {exc}"
    except Stopped:
        pass
    except psycopg.Error as exc:  # the session could not even be set up
        report.error = f"worker {job.worker}: {first_line(exc)}"
        control.ready(job.worker, None)


def _race(job: WorkerJob, session: LibpqSession, control: Control, report: WorkerReport) -> None:
    """Run the race loop's attempts, each in a transaction, until it ends."""
    steps = race_loop(job.program, job.ops, Ledger.for_job(job, report, control))
    transaction, pause, early = session.transaction, control.pause, job.program.first_step_offline
    try:
        step = next(steps)
        while True:
            if step.__class__ is float:  # a backoff pause before the next try
                step = steps.send(pause(step))
                continue
            try:
                outcome = transaction(step, early)
            except Exception as exc:
                _rollback(session)
                step = steps.throw(exc)
            else:
                step = steps.send(outcome)
    except StopIteration:
        pass
    finally:
        steps.close()


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
