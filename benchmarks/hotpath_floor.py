"""The floor of a Python client on the counter transaction: a bare loop, no harness.

    python benchmarks/hotpath_floor.py [seconds] [rounds] [workers]

Alternates, on the embedded server and one fixture row: pgbench -M prepared (the script
`concord calibrate` generates, -j as calibrate sets it), the plain-Python floor of
`concord calibrate --floor` (psycopg's libpq calls in a loop, no concord code), a bare loop over
concord's `LibpqSession` and the operation's generator (BEGIN, the prepared SELECT ... FOR
UPDATE, the prepared UPDATE, COMMIT) in one thread per worker, and `concord race` itself
(threads). Prints transactions per second of each and the medians, so the gap can be split into
Python's share (pgbench to floor), the session and program layer's (floor to bare) and the race
loop's bookkeeping (bare to race).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import psycopg
import sqlalchemy as sa

from concord.calibrate import Calibration, find_pgbench, prepare, run_concord, run_floor, run_pgbench
from concord.db.engine import create_engine
from concord.db.migrate import ensure_schema
from concord.db.urls import libpq_dsn, resolve_url
from concord.race.libpq import LibpqSession
from concord.race.scenarios.counter.program import CounterProgram


def bare_loop(dsn: str, program: CounterProgram, seconds: float, workers: int) -> float:
    """``workers`` threads, each a connection looping over the transaction until the deadline."""
    go, counts = threading.Barrier(workers + 1), [0] * workers

    def loop(worker: int) -> None:
        with psycopg.connect(dsn, autocommit=True) as conn:
            session = LibpqSession(conn, "read committed")
            go.wait()
            done, deadline = 0, time.perf_counter() + seconds
            while time.perf_counter() < deadline:
                session.transaction(program.operation(worker, done))
                done += 1
            counts[worker] = done

    threads = [threading.Thread(target=loop, args=(w,)) for w in range(workers)]
    for thread in threads:
        thread.start()
    go.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.perf_counter() - started)


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 5.0
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    workers = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    url = resolve_url(None)
    dsn = libpq_dsn(url)
    engine = create_engine(url, poolclass=sa.NullPool)
    ensure_schema(engine)
    script, fixture, program = prepare(engine, workers)
    task_id = fixture.tasks[0]
    pgbench = find_pgbench()
    found: dict[str, list[float]] = {"pgbench": [], "floor": [], "bare": [], "race": []}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "counter.sql"
        path.write_text(script)
        for _ in range(rounds):
            jobs = Calibration().pgbench_jobs(workers)
            found["pgbench"].append(run_pgbench(pgbench, path, dsn, task_id, workers, seconds, jobs))
            commits, elapsed = run_floor(dsn, program.read, program.write, task_id, workers, seconds)
            found["floor"].append(commits / elapsed)
            found["bare"].append(bare_loop(dsn, program, seconds, workers))
            found["race"].append(run_concord(str(url), workers, "threads", seconds))
            print({k: round(v[-1]) for k, v in found.items()}, flush=True)
    medians = {k: statistics.median(v) for k, v in found.items()}
    print("medians", {k: round(v) for k, v in medians.items()})
    base = medians.pop("pgbench")
    print("  ".join(f"{name}/pgbench {value / base:.3f}" for name, value in medians.items()))


if __name__ == "__main__":
    main()
