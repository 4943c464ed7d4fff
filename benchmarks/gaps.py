"""Where a transaction's time goes: each statement's round trip, and the client's gaps between.

    python benchmarks/gaps.py [seconds] [rounds] [--workers N] [--other CHECKOUT]

Runs the calibration transaction (counter, pessimistic: BEGIN, SELECT ... FOR UPDATE, UPDATE,
COMMIT) on the embedded server, twice per round: the plain floor of `concord calibrate --floor`
and `concord race` itself (threads), one thread per worker (one worker by default). Every libpq
call of each is timed: a *call* is from the command's sending to its result (the server's work
and both wake-ups), a *gap* from one result to the next command (the client's own time, the
backend waiting; with several workers, also the wait for the GIL). Prints the mean of each call
and gap per transaction (averaged over the workers), transactions per second, and the longest
single gap of any worker after its first two transactions: a mean hides one long pause (the
garbage collector's full pass, 40 ms with every thread stopped, added 7 µs to a mean of 6;
benchmarks/README.md, "the collector's pause"), the longest gap shows it.

With several workers on the one row, the gaps that count are read>write and write>commit: they
are inside the row lock, which every other worker is waiting for. So is the *hand-over* printed
with them: the median from one holder's COMMIT answer to the next holder's read answer, the time
the lock takes to pass on, as the clients see it.

Each client runs in a fresh interpreter, and the order alternates round by round. With
``--other`` (a directory holding another version of concord, e.g. a ``git worktree`` of main)
each round also runs that version's race (``PYTHONPATH`` set to it): an A/B of the gaps, which
survives a neighbour's load better than throughput does (the COMMIT's flush swings by 10%).

The timing wraps libpq's call in a Python function, which adds about half a microsecond to every
gap of both clients alike.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa

from concord.calibrate import floor_statements, prepare, run_concord
from concord.db.engine import create_engine
from concord.db.migrate import ensure_schema
from concord.db.urls import libpq_dsn, resolve_url
from concord.race import libpq

Calls = list[tuple[bytes, int, int]]  # (statement, sent at, answered at) in perf_counter_ns


def timed(run: Callable[..., Any], calls: Calls) -> Callable[..., Any]:
    """``run`` (a libpq ``exec_prepared``) that records each call's start and end."""
    clock, record = time.perf_counter_ns, calls.append

    def call(name: bytes, args: Any) -> Any:
        sent = clock()
        result = run(name, args)
        record((name, sent, clock()))
        return result

    return call


def floor(dsn: str, program: Any, task_id: int, seconds: float, calls: Calls) -> float:
    """The floor's loop (`concord.calibrate.floor`, checks left out) with its calls timed."""
    statements, read_args, args, at = floor_statements(program.read, program.write, task_id)
    with psycopg.connect(dsn, autocommit=True, application_name="concord gaps floor") as conn:
        pgconn = conn.pgconn
        for name, text in statements:
            pgconn.prepare(name, text)
        execute = timed(pgconn.exec_prepared, calls)
        done, ends = 0, time.perf_counter() + seconds
        while time.perf_counter() < ends:
            execute(b"b", None)
            result = execute(b"r", read_args)
            args[at] = str(int(result.get_value(0, 0)) + 1).encode()
            execute(b"w", args)
            execute(b"c", None)
            done += 1
    return done / seconds


def floors(dsn: str, program: Any, task_id: int, workers: int, seconds: float, logs: list[Calls]) -> float:
    """``workers`` floors, a thread each, started together; their transactions per second."""
    go, tps = threading.Barrier(workers), [0.0] * workers

    def one(worker: int) -> None:
        go.wait()
        tps[worker] = floor(dsn, program, task_id, seconds, logs[worker])

    threads = [threading.Thread(target=one, args=(worker,)) for worker in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(tps)


def race(url: str, fixture: Any, workers: int, seconds: float, logs: list[Calls]) -> float:
    """`concord race` (threads) with each worker session's libpq calls timed."""
    opened = libpq.LibpqSession.__init__

    def session(self: libpq.LibpqSession, *args: Any, **kwargs: Any) -> None:
        opened(self, *args, **kwargs)
        calls: Calls = []
        logs.append(calls)
        self._run = timed(self._run, calls)

    libpq.LibpqSession.__init__ = session  # type: ignore[method-assign]
    try:
        return run_concord(url, workers, "threads", seconds, fixture)
    finally:
        libpq.LibpqSession.__init__ = opened  # type: ignore[method-assign]


def summary(calls: Calls, tps: float) -> dict[str, Any]:
    """Mean µs per transaction of each call and of each gap (named by the calls around it)."""
    names = _short_names(calls)
    spent: dict[str, list[float]] = {}
    for (name, sent, answered), (following, next_sent, _) in itertools.pairwise(calls):
        spent.setdefault(names[name], []).append((answered - sent) / 1000)
        spent.setdefault(f"{names[name]}>{names[following]}", []).append((next_sent - answered) / 1000)
    commits = max(1, len(spent.get("commit", ())))
    means = {key: sum(values) / commits for key, values in spent.items() if len(values) * 10 >= commits}
    gaps = sum(value for key, value in means.items() if ">" in key)
    # After the first two transactions: the first runs each statement's Parse (a round trip).
    longest = max(following[1] - answered for (_, _, answered), following in itertools.pairwise(calls[8:]))
    return {"tps": tps, "gaps_us": gaps, **means, "longest_gap_us": longest / 1000}


def handover(logs: list[Calls]) -> float:
    """The median µs from one lock holder's COMMIT answer to the next holder's locking-read answer.

    With several workers on the row, each transaction's read is granted when the one before it
    commits: this is the lock's hand-over as the clients see it (the server releasing the lock,
    the next backend waking to return the row, its client waking and taking the GIL), which the
    gaps and calls of one worker do not show. With one worker it is the whole way round from
    COMMIT to the next read's answer instead.
    """
    turns = []  # (read answered, commit answered) of every transaction, every worker
    for calls in logs:
        names, granted = _short_names(calls), None
        for name, _, answered in calls[8:]:
            if names[name] == "read":
                granted = answered
            elif names[name] == "commit" and granted is not None:
                turns.append((granted, answered))
                granted = None
    turns.sort()
    return statistics.median((later[0] - earlier[1]) / 1000 for earlier, later in itertools.pairwise(turns))


def _short_names(calls: Calls) -> dict[bytes, str]:
    """begin, read, write, commit, whichever prepared names the client gave them."""
    order = list(dict.fromkeys(name for name, _, _ in calls[:8]))
    return dict(zip(order, _CALLS, strict=False))


def measure(kind: str, workers: int, seconds: float) -> dict[str, Any]:
    """One client's transactions per second and its calls and gaps, averaged over its workers."""
    url = resolve_url(None)
    engine = create_engine(url, poolclass=sa.NullPool)
    ensure_schema(engine)
    _, fixture, program = prepare(engine, workers)
    logs: list[Calls] = []
    if kind == "floor":
        logs.extend([] for _ in range(workers))
        tps = floors(libpq_dsn(url), program, fixture.tasks[0], workers, seconds, logs)
    else:
        tps = race(str(url), fixture, workers, seconds, logs)
    engine.dispose()
    each = [summary(calls, tps) for calls in logs if len(calls) > 8]
    keys = set.intersection(*(set(row) for row in each))
    means = {key: statistics.mean(row[key] for row in each) for key in _ORDER if key in keys}
    longest = max(row["longest_gap_us"] for row in each)
    return means | {"tps": tps, "longest_gap_us": longest, "handover_us": handover(logs)}


def child(kind: str, checkout: str, workers: int, seconds: float) -> dict[str, Any]:
    """One client measured in a fresh interpreter that imports concord from ``checkout``."""
    command = [sys.executable, __file__, "--one", kind, str(workers), str(seconds)]
    done = subprocess.run(
        command, env={**os.environ, "PYTHONPATH": checkout}, capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout)


def main() -> None:
    if sys.argv[1:2] == ["--one"]:
        print(json.dumps(measure(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))))
        return
    parser = argparse.ArgumentParser(description="each statement's round trip and the gaps between")
    parser.add_argument("seconds", type=float, nargs="?", default=3.0)
    parser.add_argument("rounds", type=int, nargs="?", default=3)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--other", help="another checkout of concord whose race to measure too")
    args = parser.parse_args()
    here = str(Path(__file__).resolve().parents[1])
    sides = [("floor", here), ("race", here)] + ([("other race", args.other)] if args.other else [])
    found: dict[str, list[dict[str, Any]]] = {name: [] for name, _ in sides}
    for number in range(args.rounds):
        for name, checkout in sides if number % 2 == 0 else sides[::-1]:
            found[name].append(child(name.split()[-1], checkout, args.workers, args.seconds))
            print(f"round {number + 1} {name:10} {_line(found[name][-1])}", flush=True)
    for name, rows in found.items():
        medians = {key: statistics.median(row[key] for row in rows if key in row) for key in rows[0]}
        print(f"median     {name:10} {_line(medians)}")


def _line(row: dict[str, Any]) -> str:
    parts = [f"{row['tps']:7,.0f} tps  gaps {row['gaps_us']:5.1f} µs:"]
    parts += [f"{key} {value:.1f}" for key, value in row.items() if ">" in key]
    parts += ["| calls:"] + [f"{key} {value:.1f}" for key, value in row.items() if key in _CALLS]
    parts += [f"| hand-over {row['handover_us']:.1f} | longest gap {row['longest_gap_us']:,.0f}"]
    return " ".join(parts)


_CALLS = ("begin", "read", "write", "commit")
_ORDER = ("gaps_us", "begin>read", "read>write", "write>commit", "commit>begin", *_CALLS)


if __name__ == "__main__":
    main()
