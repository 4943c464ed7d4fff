"""A/B the asyncio executor's hand-written path against psycopg's own AsyncConnection.

    python benchmarks/ab_async_driver.py [rounds] [duration_s] [workers ...]

Issue 23: put the asyncio executor on psycopg's `AsyncConnection` unless the hand-written async
path is measured more than 15% faster at 50 workers. A is concord's asyncio worker as it ships
(`worker_async.LoopRacer`: statements prepared on a non-blocking libpq connection, chained by
the event loop's reader callbacks, no task switch per statement). B is the plain shape that
replacing it would take: an ``async def`` loop per worker, the sync worker's loop step for step
(the same race loop, `concord.race.loop`), every statement awaited through an
`AsyncConnection` cursor with ``prepare=True``. Both run in concord's asyncio executor
(`concord.race.executors.aio`, on its default event loop), `counter` under `pessimistic`, on the
embedded server, each side in turn with the order alternating by round.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
from typing import Any

import psycopg

import concord.race.executors.aio as aio
from concord.calibrate import run_concord
from concord.db.urls import resolve_url
from concord.race.loop import Fatal, Ledger, Stopped, first_line, race_loop
from concord.race.steps import Fetch, Operation, Outcome
from concord.race.worker import WorkerJob, WorkerReport, application_name
from concord.race.worker_async import run_worker_async

_OPEN = {psycopg.pq.TransactionStatus.INTRANS, psycopg.pq.TransactionStatus.INERROR}


async def _drive(cursor: psycopg.AsyncCursor, operation: Operation) -> Outcome:
    """`concord.race.steps.drive`, each step awaited through psycopg's cursor."""
    try:
        sql, params = next(operation)
        while True:
            await cursor.execute(sql.text, sql.bind(params), prepare=True)
            if sql.fetch is Fetch.ROWCOUNT:
                value: Any = cursor.rowcount
            elif sql.fetch is Fetch.NOTHING:
                value = None
            else:
                row = await cursor.fetchone()
                value = row if sql.fetch is Fetch.ROW else (None if row is None else row[0])
            sql, params = operation.send(value)
    except StopIteration as done:
        return done.value


async def run_worker_psycopg(job: WorkerJob, control: Any) -> WorkerReport:
    """B: the sync worker's loop as an ``async def`` on psycopg's `AsyncConnection`."""
    report = WorkerReport(job.worker)
    conn = await psycopg.AsyncConnection.connect(
        job.dsn, autocommit=True, application_name=application_name(job)
    )
    try:
        await conn.execute(
            f"SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL {job.isolation.upper()}"
        )
        for name, value in job.settings:
            await conn.execute("SELECT set_config(%s, %s, false)", (name, value))
        cursor = conn.cursor()
        report.backend_pid = conn.info.backend_pid
        control.ready(job.worker, report.backend_pid)
        if await control.wait_go_async():
            await _race(job, conn, cursor, control, report)
    except Fatal as exc:
        report.error = f"worker {job.worker}: {exc}"
    except Stopped:
        pass
    except psycopg.Error as exc:
        report.error = f"worker {job.worker}: {first_line(exc)}"
    finally:
        await conn.close()
    return report


async def _race(job: WorkerJob, conn, cursor, control: Any, report: WorkerReport) -> None:
    steps = race_loop(job.program, job.ops, Ledger.for_job(job, report, control))
    try:
        step = next(steps)
        while True:
            if step.__class__ is float:
                await asyncio.sleep(step)
                step = steps.send(control.stopping())
                continue
            try:
                await cursor.execute("BEGIN", prepare=True)
                outcome = await _drive(cursor, step)
                await cursor.execute("COMMIT", prepare=True)
            except Exception as exc:
                if conn.info.transaction_status in _OPEN:
                    await cursor.execute("ROLLBACK")
                step = steps.throw(exc)
            else:
                step = steps.send(outcome)
    except StopIteration:
        pass
    finally:
        steps.close()


SIDES = {"A hand-written": run_worker_async, "B AsyncConnection": run_worker_psycopg}


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    duration = float(sys.argv[2]) if len(sys.argv) > 2 else 3.0
    worker_counts = [int(w) for w in sys.argv[3:]] or [1, 8, 50]
    url = str(resolve_url(None))
    found: dict[tuple[str, int], list[float]] = {(side, w): [] for side in SIDES for w in worker_counts}
    for number in range(rounds):
        for workers in worker_counts:
            for side in list(SIDES) if number % 2 == 0 else list(reversed(SIDES)):
                aio.run_worker_async = SIDES[side]  # type: ignore[assignment]
                found[(side, workers)].append(run_concord(url, workers, "asyncio", duration))
            print(number, workers, {s: round(found[(s, workers)][-1]) for s in SIDES}, flush=True)
    aio.run_worker_async = run_worker_async
    a_side, b_side = SIDES
    for workers in worker_counts:
        a, b = found[(a_side, workers)], found[(b_side, workers)]
        ratios = [y / x for x, y in zip(a, b, strict=True)]
        print(
            f"{workers:>3} workers: A median {statistics.median(a):,.0f} tps, B median "
            f"{statistics.median(b):,.0f} tps; B/A per round {' '.join(f'{r:.3f}' for r in ratios)}, "
            f"median {statistics.median(ratios):.3f}"
        )


if __name__ == "__main__":
    main()
