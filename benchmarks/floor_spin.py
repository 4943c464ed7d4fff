"""What a microsecond of client time between statements costs the floor, on this machine.

    python benchmarks/floor_spin.py [seconds] [rounds] [spins in µs, comma-separated]

The plainest Python client of `concord calibrate --floor` (psycopg's libpq calls in a loop: BEGIN,
the counter's SELECT ... FOR UPDATE, UPDATE, COMMIT) at one worker, on the embedded server, with a
busy wait of ``spin`` µs added after each of its four statements: the stand-in for Python a
heavier client runs between a result and its next command. The spins alternate in order round by
round; prints each spin's median transactions per second and how much longer a transaction took
per microsecond of spin added. On a machine where that is well above one, the gap between any
Python client and the floor is mostly where the kernel places the client against its backend
while it computes, not the computing itself (ARCHITECTURE.md, `concord calibrate --floor`).
"""

from __future__ import annotations

import statistics
import sys
import time

import psycopg
import sqlalchemy as sa

from concord.calibrate import floor_statements, prepare
from concord.db.engine import create_engine
from concord.db.migrate import ensure_schema
from concord.db.urls import libpq_dsn, resolve_url


def run(dsn: str, program, task_id: int, spin_us: float, seconds: float) -> float:
    """The floor's loop with ``spin_us`` of busy waiting after each statement; its tps."""
    statements, read_args, args, at = floor_statements(program.read, program.write, task_id)
    with psycopg.connect(dsn, autocommit=True, application_name="concord floor_spin") as conn:
        pgconn = conn.pgconn
        for name, text in statements:
            pgconn.prepare(name, text)
        execute, clock, spin = pgconn.exec_prepared, time.perf_counter, spin_us / 1e6

        def busy() -> None:
            until = clock() + spin
            while spin and clock() < until:
                pass

        done, ends = 0, clock() + seconds
        while clock() < ends:
            execute(b"b", None)
            busy()
            result = execute(b"r", read_args)
            busy()
            args[at] = str(int(result.get_value(0, 0)) + 1).encode()
            execute(b"w", args)  # type: ignore[arg-type]
            busy()
            execute(b"c", None)
            busy()
            done += 1
    return done / seconds


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 3.0
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 4
    spins = [float(s) for s in (sys.argv[3] if len(sys.argv) > 3 else "0,1,3,10").split(",")]
    url = resolve_url(None)
    engine = create_engine(url, poolclass=sa.NullPool)
    ensure_schema(engine)
    _, fixture, program = prepare(engine, 1)
    dsn = libpq_dsn(url)
    found: dict[float, list[float]] = {spin: [] for spin in spins}
    for number in range(rounds):
        for spin in spins if number % 2 == 0 else spins[::-1]:
            found[spin].append(run(dsn, program, fixture.tasks[0], spin, seconds))
    base = 1e6 / statistics.median(found[spins[0]])
    for spin, tps in found.items():
        longer = 1e6 / statistics.median(tps) - base
        added = 4 * (spin - spins[0])
        per = f", {longer / added:.1f} µs longer per µs added" if added else ""
        rounds_tps = [round(t) for t in tps]
        print(f"spin {spin:g} µs x 4 statements: {statistics.median(tps):,.0f} tps{per}  {rounds_tps}")
    engine.dispose()


if __name__ == "__main__":
    main()
