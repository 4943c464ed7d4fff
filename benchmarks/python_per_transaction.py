"""The worker's own Python per transaction, with libpq taken out of the picture.

    python benchmarks/python_per_transaction.py [transactions]

Runs the calibration transaction (counter, pessimistic) through concord's real worker code, but
on a stand-in for psycopg's libpq connection that answers at once, so what is timed is only the
Python between libpq calls: the session's statement plans and result loading, the program's
generator, and the harness's bookkeeping. Three loops, warm caches, best of five:

- ``raw``: the four libpq calls of a transaction and nothing else (the floor of any Python client);
- ``session``: `LibpqSession` driving the program (`begin`, `drive`, `commit`);
- ``harness``: the worker's whole race loop (`concord.race.worker._race`): the above plus the
  retry loop, the trace line, the latency and the progress counter.

Under a real server the same code runs with cold caches after every system call and costs
several times more; use this to compare two versions of the hot path, side by side.
"""

from __future__ import annotations

import sys
import time

import psycopg
import sqlalchemy as sa

from concord.calibrate import prepare
from concord.db.engine import create_engine
from concord.db.migrate import ensure_schema
from concord.db.urls import libpq_dsn, resolve_url
from concord.locking.retry import RetryPolicy
from concord.race.executors.threads import ThreadControl
from concord.race.libpq import LibpqSession
from concord.race.steps import drive
from concord.race.worker import WorkerJob, WorkerReport, _race, retry_kinds


class Answer:
    """A libpq result as the session reads it: status, one row of text, a row count."""

    def __init__(self, status: int, row: list[bytes], rows_affected: int | None = None) -> None:
        self.status, self.row, self.command_tuples = status, row, rows_affected
        self.ntuples, self.nfields = (1 if row else 0), len(row)

    def get_value(self, row: int, column: int) -> bytes:
        return self.row[column]

    def ftype(self, column: int) -> int:
        return 23  # int4


class InstantServer:
    """Stands in for psycopg's ``PGconn``: every prepared statement answers at once."""

    def __init__(self, read_name: bytes) -> None:
        self.read_name = read_name
        self.row, self.done = Answer(2, [b"5", b"1"]), Answer(1, [], 1)

    def exec_prepared(self, name: bytes, args):
        return self.row if name == self.read_name else self.done


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    url = resolve_url(None)
    engine = create_engine(url, poolclass=sa.NullPool)
    ensure_schema(engine)
    _, fixture, program = prepare(engine, 1)
    dsn = libpq_dsn(url)
    with psycopg.connect(dsn, autocommit=True) as conn:  # plans and loaders come from the real server
        session = LibpqSession(conn, "read committed")
        session.begin()
        drive(session.execute, program.operation(0, 0))
        session.commit()
        server = InstantServer(session.plans[program.read.text].name)
        session.pgconn = server
        session._run = server.exec_prepared  # the session binds its libpq call once
    task_id = str(fixture.tasks[0]).encode()

    def raw() -> None:
        for _ in range(count):
            server.exec_prepared(b"begin", None)
            result = server.exec_prepared(server.read_name, [task_id])
            points = int(result.get_value(0, 0))
            server.exec_prepared(b"write", [str(points + 1).encode(), task_id])
            server.exec_prepared(b"commit", None)

    def session_loop() -> None:
        for seq in range(count):
            session.begin()
            drive(session.execute, program.operation(0, seq))
            session.commit()

    def harness() -> None:
        job = WorkerJob(
            worker=0, dsn=dsn, isolation="read committed", program=program,
            policy=RetryPolicy(max_tries=10), retry_on=retry_kinds(frozenset()), ops=count,
            trace_cap=20_000, seed=1,
        )  # fmt: skip
        control = ThreadControl(1)
        _race(job, session, control, WorkerReport(0))

    for name, loop in (("raw", raw), ("session", session_loop), ("harness", harness)):
        best = float("inf")
        for _ in range(5):
            started = time.perf_counter()
            loop()
            best = min(best, time.perf_counter() - started)
        print(f"{name:8} {best / count * 1e6:6.2f} µs per transaction")


if __name__ == "__main__":
    main()
