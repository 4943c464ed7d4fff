"""The floor: the same transaction from the plainest Python client there is."""

from __future__ import annotations

import contextlib
import threading
import time
from typing import NamedTuple, NoReturn

import psycopg
from psycopg import pq

from concord.errors import ConcordError
from concord.race.steps import Sql

_COMMAND_OK, _TUPLES_OK = int(pq.ExecStatus.COMMAND_OK), int(pq.ExecStatus.TUPLES_OK)


class FloorStatements(NamedTuple):
    """The floor's transaction, bound once: its prepared statements (name, text) in order, the
    read's parameters, the write's (``points`` left as None) and where ``points`` goes in them."""

    statements: tuple[tuple[bytes, bytes], ...]
    read_args: list[bytes]
    write_args: list[bytes | None]
    points_at: int


def floor_statements(read: Sql, write: Sql, task_id: int) -> FloorStatements:
    """Bind the counter's read and write for the floor's loop (and the benchmarks that copy it);
    `ConcordError` when they take a parameter the floor cannot supply."""
    key = str(task_id).encode()
    constants = {"task_id": key, **{k: str(v).encode() for k, v in write.defaults.items()}}
    if set(read.names) - constants.keys() or set(write.names) - constants.keys() - {"points"}:
        raise ConcordError(f"the floor cannot bind {read.names} and {write.names}")
    return FloorStatements(
        statements=((b"b", b"BEGIN"), (b"r", read.numbered), (b"w", write.numbered), (b"c", b"COMMIT")),
        read_args=[constants[name] for name in read.names],
        write_args=[None if name == "points" else constants[name] for name in write.names],
        points_at=write.names.index("points"),
    )


def run_floor(
    dsn: str, read: Sql, write: Sql, task_id: int, workers: int, duration_s: float
) -> tuple[int, float]:
    """The same transaction from the plainest Python client; its commits and seconds.

    A thread per connection, each looping over psycopg's libpq wrapper directly (prepared BEGIN,
    read, write, COMMIT, the increment computed in Python between read and write), with no concord
    code inside the loop: what separates its throughput from pgbench's is Python's and psycopg's
    own cost on this machine, not concord's. Every result is checked; a failed statement ends the
    run with `ConcordError`.
    """
    statements, read_args, write_args, at = floor_statements(read, write, task_id)
    go = threading.Barrier(workers + 1, timeout=60)
    counts, failures = [0] * workers, []
    ends = [float("inf")]  # the coordinator sets the deadline once all are connected, or 0 to stop

    def loop(worker: int) -> None:
        try:
            with psycopg.connect(dsn, autocommit=True, application_name="concord calibrate floor") as conn:
                pgconn = conn.pgconn
                for name, text in statements:
                    if (prepared := pgconn.prepare(name, text)).status != _COMMAND_OK:
                        _floor_failed(pgconn, prepared)
                run, args = pgconn.exec_prepared, list(write_args)
                go.wait()
                done = 0
                while time.perf_counter() < ends[0]:  # checks inline: no call the loop can spare
                    if (result := run(b"b", None)).status != _COMMAND_OK:
                        _floor_failed(pgconn, result)
                    if (result := run(b"r", read_args)).status != _TUPLES_OK:
                        _floor_failed(pgconn, result)
                    if not result.ntuples:
                        raise ConcordError(f"the floor's read found no task {task_id}")
                    # points is NOT NULL; exec_prepared sends None as NULL (psycopg types it Buffer only).
                    args[at] = str(int(result.get_value(0, 0)) + 1).encode()  # type: ignore[arg-type]
                    if (result := run(b"w", args)).status != _COMMAND_OK:  # type: ignore[arg-type]
                        _floor_failed(pgconn, result)
                    if (result := run(b"c", None)).status != _COMMAND_OK:
                        _floor_failed(pgconn, result)
                    done += 1
                counts[worker] = done
        except BaseException as exc:  # reported by the caller, once every thread is done
            failures.append(exc)
            go.abort()

    threads = [threading.Thread(target=loop, args=(w,), name=f"floor-{w}") for w in range(workers)]
    started = time.perf_counter()
    try:
        for thread in threads:
            thread.start()
        with contextlib.suppress(threading.BrokenBarrierError):  # a thread failed: reported below
            go.wait()
        started = time.perf_counter()
        ends[0] = started + duration_s
        for thread in threads:
            thread.join()
    except BaseException:
        # Ctrl-C, while the threads start, connect or race: those at the start line are let go
        # (the broken barrier ends them), the others end their transaction; every thread that
        # started closes its connection before this goes on.
        ends[0] = 0.0
        go.abort()
        for thread in threads:
            if thread.ident is not None:
                thread.join()
        raise
    elapsed = time.perf_counter() - started
    if failures:
        first = failures[0]
        raise first if isinstance(first, ConcordError) else ConcordError(f"the floor failed: {first}")
    return sum(counts), elapsed


def _floor_failed(pgconn: pq.abc.PGconn, result: pq.abc.PGresult) -> NoReturn:
    message = (result.error_message or pgconn.error_message).decode(errors="replace").strip()
    raise ConcordError(f"the floor's statement failed: {message or 'no result'}")
