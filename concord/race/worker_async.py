"""The racing worker on an event loop: `concord.race.worker`'s loop on a non-blocking session.

The same race loop (`concord.race.loop`) as the sync worker. Connecting, the start
signal and closing are awaited in a task per worker (`run_worker_async`); the race itself is a
`LoopRacer`, whose statements go through `concord.race.libpq_async.AsyncLibpqSession` chained by the
event loop's reader callbacks.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg.pq.abc import PGresult

from concord.race.job import WorkerJob, WorkerReport
from concord.race.libpq_async import AsyncLibpqSession
from concord.race.loop import Fatal, Ledger, first_line, race_loop
from concord.race.plans import Plan
from concord.race.steps import Operation, Outcome, finish
from concord.race.worker import application_name, how_it_ended


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
        with how_it_ended(job, report, control):
            session = await AsyncLibpqSession.open(conn, job.isolation, job.settings)
            report.backend_pid = conn.info.backend_pid
            control.ready(job.worker, report.backend_pid)
            if await control.wait_go_async():
                await LoopRacer(job, session, control, report).run()
    finally:
        await _close_async(conn, session)
    return report


class LoopRacer:
    """One worker's race as a chain of event-loop callbacks, from one result to the next command.

    It drives the one race loop (`concord.race.loop.race_loop`) as the sync worker does: BEGIN,
    the operation's statements, COMMIT; after a failed attempt, a ROLLBACK, then the loop's
    verdict (a backoff pause, the next operation, or the end). Each result arrives in the
    session's reader callback, which sends the next command at once: no task switch and no
    future per statement. Awaiting every statement in a task cost several times the client CPU
    per transaction (measured in ``benchmarks/README.md``).
    """

    def __init__(
        self, job: WorkerJob, session: AsyncLibpqSession, control: Any, report: WorkerReport
    ) -> None:
        self.session, self.control = session, control
        self.steps = race_loop(job.program, job.ops, Ledger.for_job(job, report, control))
        self.loop = session.loop
        self.ended: asyncio.Future[None] = self.loop.create_future()
        self.operation: Operation | None = None
        self.outcome: Outcome | None = None
        self.plan: Plan | None = None
        self.answer: PGresult | None = None  # a final step's, until COMMIT has answered
        self.pause: asyncio.TimerHandle | None = None

    async def run(self) -> None:
        """Race until stopped, done or exhausted; raise `Fatal` as the sync worker does."""
        self.control.on_stop(self.stop)
        try:
            self._resume(self.steps.send, None)
            await self.ended
        finally:
            self.steps.close()

    def stop(self) -> None:
        """The coordinator asked to stop: end now if waiting out a backoff pause."""
        if self.pause is not None:
            self.pause.cancel()
            self.pause = None
            self._resume(self.steps.send, True)

    # -- the loop's next step

    def _resume(self, step: Callable[[Any], Any], value: Any) -> None:
        """Tell the race loop how the last step went (``step`` is its send or throw); do what
        it says next: begin an attempt, wait out a pause, or end."""
        try:
            following = step(value)
        except StopIteration:
            self._end()
            return
        except Fatal as fatal:
            self._end(fatal)
            return
        if following.__class__ is float:
            self.pause = self.loop.call_later(following, self._paused)
            return
        self.operation = following
        self._guarded(self.session.send_begin, self._began)

    def _paused(self) -> None:
        self.pause = None
        self._resume(self.steps.send, False)

    # -- one attempt, statement by statement

    def _began(self, result: PGresult | None, error: BaseException | None) -> None:
        error = self.session.failure(result, error)
        if error is not None:
            self._failed(error)
            return
        self._advance(None)

    def _advance(self, value: Any) -> None:
        """Hand the last step's value to the operation; send its next step, or COMMIT."""
        operation = self.operation
        assert operation is not None
        try:
            sql, params = operation.send(value)
        except StopIteration as done:
            self.outcome = done.value
            self._guarded(self.session.send_commit, self._committed)
            return
        except Exception as exc:  # the operation's own verdict (a stale version, a row missed)
            self._failed(exc)
            return
        plan = self.session.plans.get(sql.text)
        if plan is None:
            self._guarded(self.session.send_prepare, sql, lambda p, e: self._prepared(p, e, params))
            return
        self.plan = plan
        self._guarded(self.session.send_prepared, plan, params, self._stepped)

    def _prepared(self, plan: Plan | None, error: BaseException | None, params: dict[str, Any]) -> None:
        if error is not None or plan is None:
            self._failed(error or psycopg.OperationalError("could not prepare a statement"))
            return
        self.plan = plan
        self._guarded(self.session.send_prepared, plan, params, self._stepped)

    def _stepped(self, result: PGresult | None, error: BaseException | None) -> None:
        error = self.session.failure(result, error)
        if error is not None:
            self._failed(error)
            return
        assert self.plan is not None and result is not None
        if self.plan.final:  # COMMIT first; the answer goes to the operation after (`Sql.final`)
            self.answer = result
            self._guarded(self.session.send_commit, self._committed_final)
            return
        self._advance(self.session.value(self.plan, result))

    def _committed(self, result: PGresult | None, error: BaseException | None) -> None:
        error = self.session.failure(result, error)
        if error is not None:
            self._failed(error)
            return
        self._resume(self.steps.send, self.outcome)

    def _committed_final(self, result: PGresult | None, error: BaseException | None) -> None:
        answer, self.answer = self.answer, None
        error = self.session.failure(result, error)
        if error is not None:
            self._failed(error)
            return
        assert self.operation is not None and self.plan is not None and answer is not None
        try:
            self.outcome = finish(self.operation, self.session.value(self.plan, answer))
        except Exception as exc:  # the operation's verdict on a write that matched nothing
            self._failed(exc)
            return
        self._resume(self.steps.send, self.outcome)

    # -- a failed attempt: roll back, then hand the failure to the loop

    def _failed(self, error: BaseException) -> None:
        def rolled_back(result: PGresult | None, rollback_error: BaseException | None) -> None:
            self._resume(self.steps.throw, error)  # a failed ROLLBACK: the next BEGIN says so

        if not self.session.in_transaction():  # a failed COMMIT ended it already
            self._resume(self.steps.throw, error)
            return
        try:
            self.session.send_command(b"ROLLBACK", rolled_back)
        except psycopg.Error:  # the connection is gone
            self._resume(self.steps.throw, error)

    # -- plumbing

    def _guarded(self, send: Callable[..., None], *args: Any) -> None:
        """Send a command; a connection that broke on sending fails the attempt."""
        try:
            send(*args)
        except psycopg.Error as exc:
            self._resume(self.steps.throw, exc)

    def _end(self, fatal: Fatal | None = None) -> None:
        if not self.ended.done():
            if fatal is None:
                self.ended.set_result(None)
            else:
                self.ended.set_exception(fatal)


async def _rollback_async(session: AsyncLibpqSession) -> None:
    with contextlib.suppress(psycopg.Error):
        await session.rollback()


async def _close_async(conn: psycopg.AsyncConnection, session: AsyncLibpqSession | None) -> None:
    if session is not None:
        await _rollback_async(session)
        session.close()
    await conn.close()
