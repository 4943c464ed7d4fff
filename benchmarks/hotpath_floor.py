"""The floor of a Python client on the counter transaction: a bare loop, no harness.

    python benchmarks/hotpath_floor.py [seconds] [rounds]

Alternates, on the embedded server and one fixture row: pgbench -c 1 -M prepared (the script
`concord calibrate` generates), a bare loop over concord's `LibpqSession` (BEGIN, the prepared
SELECT ... FOR UPDATE, the prepared UPDATE, COMMIT), and `concord race` itself at 1 worker
(threads). Prints transactions per second of each and the medians, so the harness's own cost
(the gap between the bare loop and concord race) can be told from Python's (the gap between
pgbench and the bare loop).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import sqlalchemy as sa

from concord.calibrate import _prepare, find_pgbench, run_concord, run_pgbench
from concord.db.engine import create_engine
from concord.db.migrate import ensure_schema
from concord.db.urls import libpq_dsn, resolve_url
from concord.locking import get_strategy
from concord.race.libpq import LibpqSession
from concord.race.program import drive
from concord.race.programs.counter import CounterProgram
from concord.race.scenarios.counter import Counter


def bare_loop(dsn: str, program: CounterProgram, seconds: float) -> float:
    with psycopg.connect(dsn, autocommit=True) as conn:
        session = LibpqSession(conn, "read committed")
        done, deadline = 0, time.perf_counter() + seconds
        started = time.perf_counter()
        while time.perf_counter() < deadline:
            session.begin()
            drive(session.execute, program.operation(0, done))
            session.commit()
            done += 1
        return done / (time.perf_counter() - started)


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 5.0
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    url = resolve_url(None)
    dsn = libpq_dsn(url)
    engine = create_engine(url, poolclass=sa.NullPool)
    ensure_schema(engine)
    script, fixture = _prepare(engine, 1)
    program = Counter().program(get_strategy("pessimistic"), fixture)
    pgbench = find_pgbench()
    found: dict[str, list[float]] = {"pgbench": [], "bare": [], "race": []}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "counter.sql"
        path.write_text(script)
        for _ in range(rounds):
            found["pgbench"].append(run_pgbench(pgbench, path, dsn, fixture.tasks[0], 1, seconds, 1))
            found["bare"].append(bare_loop(dsn, program, seconds))
            found["race"].append(run_concord(str(url), 1, "threads", seconds))
            print({k: round(v[-1]) for k, v in found.items()}, flush=True)
    medians = {k: statistics.median(v) for k, v in found.items()}
    print("medians", {k: round(v) for k, v in medians.items()})
    bare, race = medians["bare"] / medians["pgbench"], medians["race"] / medians["pgbench"]
    print(f"bare/pgbench {bare:.3f}  race/pgbench {race:.3f}")


if __name__ == "__main__":
    main()
