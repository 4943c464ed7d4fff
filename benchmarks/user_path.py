"""What racing a user's own code costs next to concord's compiled path, on the same transaction.

    python benchmarks/user_path.py [seconds] [rounds] [workers,...]

A = the built-in `counter` scenario under `pessimistic`: prepared statements through libpq
(`concord.race.libpq`), BEGIN; SELECT ... FOR UPDATE; UPDATE; COMMIT on one row.
B = the same transaction written as a user scenario (`COUNTER` below: ``tx.lock``, ``tx.read``,
``tx.write`` on a table of its own), run by the same worker loop: `Tx` runs those as prepared
statements of the worker's session too, with its own Python and the user's around them.

Rounds alternate A and B (A first on even rounds) on the threads executor; prints each round's
commits per second and client CPU (user + system of this process) per commit, then the medians
and the ratios B/A. The machine is shared: read the ratios, and the CPU per commit, not the rates.
"""

from __future__ import annotations

import resource
import statistics
import sys
import tempfile
from pathlib import Path

from concord.db.urls import resolve_url
from concord.race import Experiment, run_experiment

COUNTER = """
name = "user-counter"
invariant = "n counts the commits"

def setup(conn):
    conn.execute("DROP TABLE IF EXISTS user_counter")
    conn.execute("CREATE TABLE user_counter (id int PRIMARY KEY, n int NOT NULL, version int DEFAULT 0)")
    conn.execute("INSERT INTO user_counter VALUES (1, 0)")

def transaction(tx):
    tx.lock("user_counter", 1)
    (n,) = tx.read("user_counter", 1, ["n"])
    tx.write("user_counter", 1, {"n": n + 1})

def check(conn):
    return []
"""


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def cell(url: str, scenario: str, workers: int, seconds: float) -> tuple[float, float]:
    """Commits per second and client CPU µs per commit of one pessimistic cell."""
    plan = Experiment(scenario=scenario, strategies=("pessimistic",), workers=(workers,), duration_s=seconds)
    before = cpu_seconds()
    result = run_experiment(plan, database_url=url)
    spent = cpu_seconds() - before
    [done] = result.cells
    assert done.violations == 0 and not done.error, done.verdict
    return done.throughput, spent / max(1, done.commits) * 1e6


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 3.0
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    ladder = [int(w) for w in sys.argv[3].split(",")] if len(sys.argv) > 3 else [1, 8]
    url = resolve_url(None).render_as_string(hide_password=False)
    user = Path(tempfile.mkdtemp()) / "user_counter.py"
    user.write_text(COUNTER)
    sides = {"A counter": "counter", "B user": str(user)}
    found: dict[tuple[str, int], list[tuple[float, float]]] = {}
    for round_ in range(rounds):
        order = list(sides.items()) if round_ % 2 == 0 else list(reversed(sides.items()))
        for workers in ladder:
            for label, scenario in order:
                tps, cpu = cell(url, scenario, workers, seconds)
                found.setdefault((label, workers), []).append((tps, cpu))
                print(
                    f"round {round_ + 1} {label:10} {workers:>3} workers: "
                    f"{tps:8,.0f} commits/s {cpu:6,.0f} µs CPU/commit"
                )
    print("\nmedians")
    for workers in ladder:
        a, b = found[("A counter", workers)], found[("B user", workers)]
        tps_a, tps_b = (statistics.median(t for t, _ in runs) for runs in (a, b))
        cpu_a, cpu_b = (statistics.median(c for _, c in runs) for runs in (a, b))
        ratios = [bt / at for (at, _), (bt, _) in zip(a, b, strict=True)]
        print(
            f"{workers:>3} workers: A {tps_a:,.0f}/s {cpu_a:,.0f} µs, B {tps_b:,.0f}/s {cpu_b:,.0f} µs; "
            f"B/A throughput {statistics.median(ratios):.2f} "
            f"(per round {', '.join(f'{r:.2f}' for r in ratios)}), "
            f"CPU per commit {cpu_b / cpu_a:.2f}"
        )


if __name__ == "__main__":
    main()
