"""The racing worker as an asyncio task: `concord.race.worker`'s loop on a non-blocking session.

Same job, report, accounting (`Book`) and retry rules as the sync worker; the statements go
through `concord.race.libpq.AsyncLibpqSession`, and waits (the start signal, a backoff pause)
are awaited on the event loop.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

import psycopg

from concord.race.libpq import AsyncLibpqSession
from concord.race.program import Outcome, Status, drive_async
from concord.race.worker import (
    GAVE_UP,
    Book,
    Fatal,
    Stopped,
    WorkerJob,
    WorkerReport,
    application_name,
    first_line,
)


async def run_worker_async(job: WorkerJob, control: Any) -> WorkerReport:
    """`run_worker` as an asyncio task (control: an asyncio-aware `Control`)."""
    report = WorkerReport(job.worker)
    try:
        conn = await psycopg.AsyncConnection.connect(
            job.dsn, autocommit=True, application_name=application_name(job)
        )
    except psycopg.Error as exc:
        report.error = f"worker {job.worker} could not connect: {first_line(exc)}"
        control.ready(job.worker, None)
        return report
    session: AsyncLibpqSession | None = None
    try:
        session = await AsyncLibpqSession.open(conn, job.isolation, job.settings)
        report.backend_pid = conn.info.backend_pid
        control.ready(job.worker, report.backend_pid)
        if await control.wait_go_async():
            await _race_async(job, session, control, report)
    except Fatal as exc:
        report.error = f"worker {job.worker}: {exc}"
    except Stopped:
        pass
    except psycopg.Error as exc:  # the session could not even be set up
        report.error = f"worker {job.worker}: {first_line(exc)}"
        control.ready(job.worker, None)
    finally:
        await _close_async(conn, session)
    return report


async def _race_async(job: WorkerJob, session: AsyncLibpqSession, control, report: WorkerReport) -> None:
    book = Book(job, report, control)
    stopping, ops, seq = control.stopping, job.ops, 0
    try:
        while not stopping() and (ops is None or seq < ops):
            outcome = await _operation_async(job, session, book, control, seq)
            if outcome is None or outcome.status is Status.EXHAUSTED:
                report.exhausted = True
                return
            seq += 1
    finally:
        book.close()


async def _operation_async(job, session: AsyncLibpqSession, book: Book, control, seq: int) -> Outcome | None:
    program, worker = job.program, job.worker
    op_started = started = time.perf_counter()
    attempt = 0
    while True:
        attempt += 1
        operation = program.operation(worker, seq)
        if operation is None:
            return None
        try:
            await session.begin()
            outcome = await drive_async(session.execute, operation)
            await session.commit()
        except Exception as exc:
            await _rollback_async(session)
            pause = book.failed(seq, attempt, started, exc)
            if pause is None:
                return GAVE_UP
            if await control.pause_async(pause):
                raise Stopped from exc
            started = time.perf_counter()
            continue
        book.committed(seq, attempt, started, op_started, outcome)
        return outcome


async def _rollback_async(session: AsyncLibpqSession) -> None:
    with contextlib.suppress(psycopg.Error):
        await session.rollback()


async def _close_async(conn: psycopg.AsyncConnection, session: AsyncLibpqSession | None) -> None:
    if session is not None:
        await _rollback_async(session)
        session.close()
    await conn.close()
