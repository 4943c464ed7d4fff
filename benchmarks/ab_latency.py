"""What recording latencies in HDR histograms costs, against the raw list it replaced.

    python benchmarks/ab_latency.py                 # the recording itself, in this process
    python benchmarks/ab_latency.py OLD_DIR [pairs] # and `concord calibrate` from OLD_DIR and here

First, in this process, alternating rounds (best of each round's repeats, then the median of the
rounds): the per-operation cost of the old recording (``list.append`` of a float of milliseconds),
of `concord.race.latency.Latencies.record`, and of hdrh's own ``record_value``; then what the
coordinator pays once per cell to merge 50 workers' histograms (each decoded from the form a
worker process sends) and read the percentiles, and the size of that form.

With OLD_DIR (a checkout from before the histograms, e.g. ``git archive main | tar -x -C DIR``),
it then runs ``concord calibrate --floor -r 3 -e threads -w 1 --json`` from OLD_DIR and from this
checkout in turn (``PYTHONPATH``), alternating which goes first, against the embedded server, and
prints each pair's concord/floor and concord commits per second, and their medians. The floor is
concord-free, so concord/floor takes the machine's drift out of each run.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
CALIBRATE = ["-m", "concord", "calibrate", "--floor", "-r", "3", "-e", "threads", "-w", "1", "--json"]


def recording(rounds: int = 9, values: int = 1000, number: int = 200) -> None:
    from hdrh.histogram import HdrHistogram

    from concord.race.latency import HIGHEST_US, LOWEST_US, SIGNIFICANT_DIGITS, Latencies

    seconds = [random.expovariate(1 / 0.0003) for _ in range(values)]  # around 300 µs
    samples: list[float] = []
    latencies = Latencies()
    hdrh = HdrHistogram(LOWEST_US, HIGHEST_US, SIGNIFICANT_DIGITS)
    append, record, record_value = samples.append, latencies.record, hdrh.record_value

    def old() -> None:
        for s in seconds:
            append(s * 1000.0)

    def new() -> None:
        for s in seconds:
            record(s)

    def hdrh_own() -> None:
        for s in seconds:
            record_value(int(s * 1_000_000 + 0.5))

    found: dict[str, list[float]] = {
        "list.append (before)": [],
        "Latencies.record": [],
        "hdrh record_value": [],
    }
    for round_ in range(rounds):
        loops = list(zip(found, (old, new, hdrh_own), strict=True))
        for name, loop in loops if round_ % 2 == 0 else reversed(loops):
            found[name].append(min(timeit.repeat(loop, number=number, repeat=3)) / number / values * 1e9)
        samples.clear()
    print(f"recording, ns per operation (median of {rounds} alternating rounds):")
    for name, per_op in found.items():
        print(
            f"  {name:22} {statistics.median(per_op):6.0f}  (rounds {min(per_op):.0f} to {max(per_op):.0f})"
        )

    workers = []
    for _ in range(50):
        worker = Latencies()
        for _ in range(20_000):
            worker.record(random.expovariate(1 / 0.003))
        workers.append(worker.encode())
    started = time.perf_counter()
    merged = Latencies.merged([Latencies.decode(encoded) for encoded in workers])
    merged.percentiles_ms()
    took = time.perf_counter() - started
    print(
        f"a cell of 50 workers x 20,000 operations: merged and read in {took * 1000:.0f} ms; "
        f"a worker's encoded histogram {statistics.median(len(e) for e in workers):.0f} bytes, "
        f"the cell's {len(merged.encode())} bytes"
    )


def calibrate(checkout: str) -> dict[str, float]:
    """One `concord calibrate` run from ``checkout``: its concord/floor and concord tps."""
    child = subprocess.run(
        [sys.executable, *CALIBRATE],
        env={**os.environ, "PYTHONPATH": checkout},
        capture_output=True,
        text=True,
        check=True,
        cwd=tempfile.mkdtemp(),  # the results file stays out of the checkouts
    )
    [row] = json.loads(child.stdout)["rows"]
    return {"concord_vs_floor": row["concord_vs_floor"], "concord_tps": row["concord_median"]}


def ab(old: str, pairs: int) -> None:
    runs: dict[str, list[dict[str, float]]] = {"old": [], "new": []}
    for pair in range(pairs):
        order = [("old", old), ("new", str(HERE))]
        for name, checkout in order if pair % 2 == 0 else reversed(order):
            runs[name].append(calibrate(checkout))
        a, b = runs["old"][-1], runs["new"][-1]
        print(
            f"pair {pair + 1}: concord/floor old {a['concord_vs_floor']:.3f} "
            f"new {b['concord_vs_floor']:.3f}; "
            f"concord tps old {a['concord_tps']:,.0f} new {b['concord_tps']:,.0f}",
            flush=True,
        )
    for measure in ("concord_vs_floor", "concord_tps"):
        a = statistics.median(r[measure] for r in runs["old"])
        b = statistics.median(r[measure] for r in runs["new"])
        print(f"median {measure}: old {a:,.3f} new {b:,.3f} (new/old {b / a:.3f})")


def main() -> None:
    recording()
    if len(sys.argv) > 1:
        ab(str(Path(sys.argv[1]).resolve()), int(sys.argv[2]) if len(sys.argv) > 2 else 4)


if __name__ == "__main__":
    main()
