"""What the wait sampler costs: throughput with and without it, side by side.

    python benchmarks/waits_overhead.py [seconds] [rounds] [workers,...] [scenario:strategy,...]

On the embedded server (or CONCORD_DATABASE_URL), each round runs one cell with the sampler and
one without (``Experiment(waits=False)``, what ``--no-waits`` gives), the order flipped every
other round so drift falls on both alike, at every worker count and scenario. Prints each
round, then per configuration the median commits/s of each side, the median of the per-round
ratios (with / without) and the range of those ratios, and the client CPU per commit (this
process: coordinator, sampler and, on the threads executor, the workers).
"""

from __future__ import annotations

import resource
import statistics
import sys
import time

import psycopg

from concord.db.urls import libpq_dsn, resolve_url
from concord.race import Experiment, run_experiment

LEFT = "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'concord race worker %'"


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def quiet() -> None:
    """Wait until the last cell's worker sessions have left, for both sides alike: a cell with
    the sampler waits for them before it reads the server's counters, a cell without does not,
    and the next cell would otherwise start beside fifty exiting backends."""
    with psycopg.connect(libpq_dsn(resolve_url(None)), autocommit=True) as conn:
        while conn.execute(LEFT).fetchone() != (0,):
            time.sleep(0.02)


def cell(
    scenario: str, strategy: str, workers: int, seconds: float, waits: bool
) -> tuple[float, float, dict]:
    """One cell: commits/s, client CPU µs per commit, and its waits entry (None without)."""
    experiment = Experiment(
        scenario=scenario, strategies=(strategy,), workers=(workers,), duration_s=seconds, waits=waits
    )
    quiet()
    before = cpu_seconds()
    [result] = run_experiment(experiment).cells
    used = cpu_seconds() - before
    return result.throughput, used / max(1, result.commits) * 1e6, result.waits or {}


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 3.0
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    worker_counts = [int(w) for w in (sys.argv[3] if len(sys.argv) > 3 else "8,50").split(",")]
    configs = [c.split(":") for c in (sys.argv[4] if len(sys.argv) > 4 else "counter:pessimistic").split(",")]
    for scenario, strategy in configs:
        for workers in worker_counts:
            tps: dict[bool, list[float]] = {True: [], False: []}
            cpu: dict[bool, list[float]] = {True: [], False: []}
            samples: list[int] = []
            sampler_ms: list[float] = []
            backend_ms: list[float] = []
            interval = None
            for n in range(rounds):
                for waits in (True, False) if n % 2 == 0 else (False, True):
                    throughput, per_commit, entry = cell(scenario, strategy, workers, seconds, waits)
                    tps[waits].append(throughput)
                    cpu[waits].append(per_commit)
                    if waits:
                        samples.append(entry.get("samples", 0))
                        sampler_ms.append(entry.get("sampler_cpu_s", 0.0) * 1000 / seconds)
                        backend_ms.append((entry.get("cpu") or {}).get("sampler_backend_cores", 0.0) * 1000)
                        interval = entry.get("interval_ms")
                print(
                    f"{scenario}/{strategy} {workers} workers round {n + 1}: "
                    f"with {tps[True][-1]:,.0f}  without {tps[False][-1]:,.0f} commits/s",
                    flush=True,
                )
            ratios = [a / b for a, b in zip(tps[True], tps[False], strict=True)]
            print(
                f"== {scenario}/{strategy}, {workers} workers, {rounds} rounds of {seconds:g} s: "
                f"with {statistics.median(tps[True]):,.0f}, without {statistics.median(tps[False]):,.0f} "
                f"commits/s; ratio median {statistics.median(ratios):.3f} "
                f"(rounds {min(ratios):.3f}-{max(ratios):.3f}); client CPU µs/commit with "
                f"{statistics.median(cpu[True]):,.0f}, without {statistics.median(cpu[False]):,.0f}; "
                f"sampler every {interval} ms, {statistics.median(samples):,.0f} samples per cell, "
                f"its own thread {statistics.median(sampler_ms):.1f} and its backend "
                f"{statistics.median(backend_ms):.1f} ms CPU per second",
                flush=True,
            )


if __name__ == "__main__":
    main()
