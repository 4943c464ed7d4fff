"""`concord seed` beside `pgbench -i` on the same server, alternating, medians of three.

    CONCORD_HOME=/tmp/seed-home python benchmarks/seed_vs_pgbench.py --tasks 1000000 --scale 10

Each round runs ``pgbench -i -s SCALE`` (into a database of its own, ``concord_pgbench``) and
``seed(..., existing=RESET)`` of TASKS tasks into concord's database, the order swapped every round
so that a drift in the machine's load falls on both. It prints every round's wall time, the seed's
phases and rows per second, then the medians and the ratio seed/pgbench of the medians and of each
round. On a shared machine the figures move from minute to minute: only the side-by-side ratio
means much. ``--database-url`` takes another server (its user must be allowed to create a database).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import time

import psycopg
from psycopg import sql

from concord.calibrate import find_pgbench, pgbench_connection
from concord.db.urls import libpq_dsn, resolve_url
from concord.seed import ExistingData, SeedPlan, seed

PGBENCH_DATABASE = "concord_pgbench"


def pgbench_init(dsn: str, scale: int) -> float:
    """Wall seconds of one ``pgbench -i -s scale`` (the client-side generation, pgbench's default)."""
    conn_args, env = pgbench_connection(dsn)  # ends with the database name
    command = [str(find_pgbench()), "-i", "-q", "-s", str(scale), *conn_args]
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env={**os.environ, **env})
    return time.perf_counter() - started


def ensure_database(dsn: str, name: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=1_000_000)
    parser.add_argument("--scale", type=int, default=10, help="pgbench -i -s (10: a million accounts)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    url = resolve_url(args.database_url)
    dsn = libpq_dsn(url)
    ensure_database(dsn, PGBENCH_DATABASE)
    pgbench_dsn = libpq_dsn(url.set(database=PGBENCH_DATABASE))
    plan = SeedPlan(tasks=args.tasks)
    seeds, benches = [], []
    for round_ in range(args.rounds):
        order = ("pgbench", "seed") if round_ % 2 == 0 else ("seed", "pgbench")
        for what in order:
            if what == "pgbench":
                benches.append(pgbench_init(pgbench_dsn, args.scale))
                print(f"round {round_ + 1}: pgbench -i -s {args.scale}  {benches[-1]:6.2f} s", flush=True)
            else:
                report = seed(url, plan, existing=ExistingData.RESET)
                seeds.append(report.seconds)
                phases = ", ".join(f"{name} {value:.2f}" for name, value in report.phases.items())
                print(
                    f"round {round_ + 1}: seed --tasks {args.tasks:,}  {report.seconds:6.2f} s "
                    f"({report.rows_per_second:,.0f} rows/s; {phases})",
                    flush=True,
                )
    ratios = [s / b for s, b in zip(seeds, benches, strict=True)]
    seed_median, bench_median = statistics.median(seeds), statistics.median(benches)
    print(
        f"medians: seed {seed_median:.2f} s, pgbench {bench_median:.2f} s, "
        f"ratio {seed_median / bench_median:.2f} (per round: {', '.join(f'{r:.2f}' for r in ratios)})"
    )


if __name__ == "__main__":
    main()
