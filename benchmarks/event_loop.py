"""The asyncio executor on asyncio's own event loop and on uvloop's, side by side with pgbench.

    python benchmarks/event_loop.py [seconds] [rounds] [workers,...]

On the embedded server and the counter transaction of `concord calibrate`, each round runs
pgbench, then `concord race` on the threads executor, then the asyncio executor with
``CONCORD_EVENT_LOOP=asyncio`` and with ``CONCORD_EVENT_LOOP=uvloop``, at every worker count.
Prints per round and then as medians: transactions per second, each client's as a ratio of the
same round's pgbench, and the client CPU (user + system of this process, the coordinator
included) per commit. CPU per commit is the steadier of the two on a shared machine: it does not
depend on how fast the server happened to be in that round.
"""

from __future__ import annotations

import os
import resource
import statistics
import sys
import tempfile
from pathlib import Path

import sqlalchemy as sa

from concord.calibrate import Calibration, concord_cell, find_pgbench, prepare, run_pgbench
from concord.db.engine import create_engine
from concord.db.migrate import ensure_schema
from concord.db.urls import libpq_dsn, resolve_url

CLIENTS = (("threads", "threads", None), ("asyncio", "asyncio", "asyncio"), ("uvloop", "asyncio", "uvloop"))


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def race(url: str, workers: int, executor: str, loop: str | None, seconds: float) -> tuple[float, float]:
    """One cell of the counter under FOR UPDATE; its commits per second and client CPU µs per commit."""
    if loop is None:
        os.environ.pop("CONCORD_EVENT_LOOP", None)
    else:
        os.environ["CONCORD_EVENT_LOOP"] = loop
    before = cpu_seconds()
    cell = concord_cell(url, workers, executor, seconds)
    return cell.throughput, (cpu_seconds() - before) / cell.commits * 1e6


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 3.0
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    worker_counts = [int(w) for w in (sys.argv[3] if len(sys.argv) > 3 else "1,8,50").split(",")]
    url = resolve_url(None)
    dsn = libpq_dsn(url)
    engine = create_engine(url, poolclass=sa.NullPool)
    ensure_schema(engine)
    pgbench = find_pgbench()
    for workers in worker_counts:
        script, fixture, _program = prepare(engine, workers)
        tps: dict[str, list[float]] = {"pgbench": [], **{name: [] for name, _, _ in CLIENTS}}
        cpu: dict[str, list[float]] = {name: [] for name, _, _ in CLIENTS}
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "counter.sql"
            path.write_text(script)
            jobs = Calibration().pgbench_jobs(workers)
            for _ in range(rounds):
                tps["pgbench"].append(
                    run_pgbench(pgbench, path, dsn, fixture.tasks[0], workers, seconds, jobs)
                )
                for name, executor, loop in CLIENTS:
                    throughput, per_commit = race(str(url), workers, executor, loop, seconds)
                    tps[name].append(throughput)
                    cpu[name].append(per_commit)
                print(workers, {k: round(v[-1]) for k, v in tps.items()}, flush=True)
        base = tps["pgbench"]
        print(f"{workers} workers, medians of {rounds} rounds:")
        print(f"  pgbench {statistics.median(base):,.0f} tps")
        for name, _, _ in CLIENTS:
            ratio = statistics.median(t / b for t, b in zip(tps[name], base, strict=True))
            print(
                f"  {name:8} {statistics.median(tps[name]):,.0f} tps  {ratio:.3f} of pgbench  "
                f"{statistics.median(cpu[name]):.0f} µs client CPU per commit"
            )
    engine.dispose()


if __name__ == "__main__":
    main()
