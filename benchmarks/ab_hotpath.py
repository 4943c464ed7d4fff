"""A/B two checkouts of concord on the 1-worker race, with the placement lottery taken out.

    python benchmarks/ab_hotpath.py OLD_DIR NEW_DIR [rounds] [cpu]

Free-running, one client's throughput on a small virtual machine depends on how often the kernel
puts the client and its backend on different CPUs (`benchmarks/placement.py`), and single runs
swing by 10 to 30%: a change of a few percent to the worker's hot path cannot be seen that way.
Here each run's worker thread and its backend are pinned to the same CPU (``cpu``, default 1)
once the race is under way, so what differs between two checkouts is their client CPU per
transaction. Runs `concord race -s counter --strategy pessimistic -w 1 -d 5` (threads) from each
checkout in turn (``PYTHONPATH``), alternating which goes first, against the embedded server,
and prints each round's new/old ratio and their median. An A/A run (the same directory twice)
shows the noise: per-round ratios mostly within 0.9 to 1.05 (one of eight at 0.81 on
2026-12-06), the median of eight within 1%.

Pinning a backend changes the server being measured, which is why concord itself never does
it; here both sides get the same placement.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from placement import backend_of, busiest_thread

from concord.db.urls import libpq_dsn, resolve_url

RACE = (
    "from concord.db.urls import resolve_url; from concord.calibrate import run_concord; "
    "print(run_concord(str(resolve_url(None)), 1, 'threads', 5))"
)


def race(checkout: str, dsn: str, cpu: set[int]) -> float:
    """One 5 s race from ``checkout``, pinned once under way; its commits per second."""
    child = subprocess.Popen(
        [sys.executable, "-c", RACE],
        env={**os.environ, "PYTHONPATH": checkout},
        stdout=subprocess.PIPE,
        text=True,
        cwd=tempfile.gettempdir(),  # whatever a run leaves behind stays out of the checkouts
    )
    backend = backend_of(dsn, "concord race worker 0")
    os.sched_setaffinity(busiest_thread(child.pid), cpu)
    os.sched_setaffinity(backend, cpu)
    return float(child.communicate()[0].strip().splitlines()[-1])


def main() -> None:
    if len(sys.argv) < 3:
        raise SystemExit(__doc__.split("\n\n")[1])
    old, new = (str(Path(p).resolve()) for p in sys.argv[1:3])
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 8
    cpu = {int(sys.argv[4]) if len(sys.argv) > 4 else 1}
    dsn = libpq_dsn(resolve_url(None))
    found: dict[str, list[float]] = {"old": [], "new": []}
    for number in range(rounds):
        for side in ("old", "new") if number % 2 == 0 else ("new", "old"):
            found[side].append(race(old if side == "old" else new, dsn, cpu))
        print(number, {side: round(tps[-1]) for side, tps in found.items()}, flush=True)
    ratios = [n / o for n, o in zip(found["new"], found["old"], strict=True)]
    print("medians", {side: round(statistics.median(tps)) for side, tps in found.items()})
    each = " ".join(f"{r:.3f}" for r in ratios)
    print(f"new/old per round {each}, median {statistics.median(ratios):.3f}")


if __name__ == "__main__":
    main()
