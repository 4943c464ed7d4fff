"""`concord seed` beside `pgbench -i` on the same server, alternating, medians of three.

    CONCORD_HOME=/tmp/seed-home python benchmarks/seed_vs_pgbench.py --tasks 1000000 --scale 10

Each round runs ``pgbench -i -s SCALE`` (into a database of its own, ``concord_pgbench``) and
``seed(..., existing=RESET)`` of TASKS tasks into concord's database, the order swapped every round
so that a drift in the machine's load falls on both. It prints every round's wall time, the seed's
phases, then the medians and the ratio seed/pgbench of the medians and of each
round. On a shared machine the figures move from minute to minute: only the side-by-side ratio
means much. When the server runs on this machine it also prints the CPU seconds each side took,
client and server together (the server's from /proc: the postmaster's tree, its exited backends
included), which a busy machine disturbs less than the wall time. ``--database-url`` takes
another server (its user must be allowed to create a database).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import time
from pathlib import Path

import psycopg
from psycopg import sql

from concord.calibrate import find_pgbench, pgbench_connection
from concord.db.urls import libpq_dsn, resolve_url
from concord.seed import ExistingData, SeedPlan, seed

PGBENCH_DATABASE = "concord_pgbench"


TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def children(postmaster: int) -> set[int]:
    found = set()
    for child in Path("/proc").glob("[0-9]*"):
        try:
            if int(_stat(int(child.name))[1]) == postmaster:
                found.add(int(child.name))
        except (FileNotFoundError, ProcessLookupError):
            continue
    return found


def settled(postmaster: int | None, before: set[int]) -> None:
    """Wait (up to 5 s) until the backends a step opened have exited and been reaped."""
    deadline = time.monotonic() + 5
    while postmaster is not None and children(postmaster) - before and time.monotonic() < deadline:
        time.sleep(0.05)


def server_cpu(postmaster: int | None) -> float:
    """CPU seconds of the server so far: the postmaster and its live children, plus the children it
    has reaped (cutime, cstime), which is where a closed connection's backend ends up."""
    if postmaster is None:
        return 0.0
    fields = _stat(postmaster)
    total = sum(int(value) for value in fields[11:15])
    for child in Path("/proc").glob("[0-9]*"):
        try:
            stat = _stat(int(child.name))
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(stat[1]) == postmaster:
            total += int(stat[11]) + int(stat[12])
    return total / TICKS


def find_postmaster(dsn: str) -> int | None:
    """The server's postmaster pid when it runs on this machine (a backend's parent), else None."""
    with psycopg.connect(dsn) as conn:
        backend = conn.info.backend_pid
        try:
            return int(_stat(backend)[1])
        except FileNotFoundError:
            return None


def pgbench_init(dsn: str, scale: int) -> float:
    """Wall seconds of one ``pgbench -i -s scale`` (the client-side generation, pgbench's default)."""
    conn_args, env = pgbench_connection(dsn)  # ends with the database name
    command = [str(find_pgbench()), "-i", "-q", "-s", str(scale), *conn_args]
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env={**os.environ, **env})
    return time.perf_counter() - started


def client_cpu() -> float:
    """CPU seconds of this process and of its finished children (pgbench)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


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
    postmaster = find_postmaster(dsn)
    plan = SeedPlan(tasks=args.tasks)
    seeds, benches = [], []
    cpu: dict[str, list[float]] = {"seed": [], "pgbench": []}
    for round_ in range(args.rounds):
        order = ("pgbench", "seed") if round_ % 2 == 0 else ("seed", "pgbench")
        for what in order:
            alive = children(postmaster) if postmaster is not None else set()
            before = client_cpu() + server_cpu(postmaster)
            if what == "pgbench":
                benches.append(pgbench_init(pgbench_dsn, args.scale))
                line = f"pgbench -i -s {args.scale}  {benches[-1]:6.2f} s"
            else:
                report = seed(url, plan, existing=ExistingData.RESET)
                seeds.append(report.seconds)
                phases = ", ".join(f"{name} {value:.2f}" for name, value in report.phases.items())
                line = f"seed --tasks {args.tasks:,}  {report.seconds:6.2f} s ({phases})"
            settled(postmaster, alive)
            cpu[what].append(client_cpu() + server_cpu(postmaster) - before)
            print(f"round {round_ + 1}: {line}; cpu {cpu[what][-1]:.2f} s", flush=True)
    ratios = [s / b for s, b in zip(seeds, benches, strict=True)]
    seed_median, bench_median = statistics.median(seeds), statistics.median(benches)
    print(
        f"medians: seed {seed_median:.2f} s, pgbench {bench_median:.2f} s, "
        f"ratio {seed_median / bench_median:.2f} (per round: {', '.join(f'{r:.2f}' for r in ratios)})"
    )
    if postmaster is not None:
        seed_cpu, bench_cpu = statistics.median(cpu["seed"]), statistics.median(cpu["pgbench"])
        print(
            f"cpu medians: seed {seed_cpu:.2f} s, pgbench {bench_cpu:.2f} s, ratio {seed_cpu / bench_cpu:.2f}"
        )


if __name__ == "__main__":
    main()
