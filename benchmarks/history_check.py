"""How long `concord history check` takes, and how much memory, as histories grow.

    python benchmarks/history_check.py [sizes] [--concurrency C] [--keep DIR]

For each size (default 10000,30000,100000 transactions) it generates a list-append history
in which ``C`` transactions (default 10) are open at once, read committed data (and their own
appends) as they go, and apply their appends at commit, with no write locks: a deliberately
sloppy database, so the history holds every kind of work for the checker (G0, G1c, G-single,
G2-item cycles, lost updates, non-repeatable reads, incompatible orders). Keys retire after 8
appends, 1 to 4 micro-operations per transaction, half reads. Then it checks the file in a
fresh interpreter (`concord history check --json`, in-process) and reports the load and check
time and that process's peak resident memory (``ru_maxrss``).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = """
import json, resource, sys, time
from concord.history import check_history, load_history
started = time.perf_counter()
history = load_history(sys.argv[1])
loaded = time.perf_counter()
stage = lambda s: print(f"  {time.perf_counter() - started:6.2f} s  {s}", file=sys.stderr)
result = check_history(history, stage=stage)
done = time.perf_counter()
print(json.dumps({
    "load_s": loaded - started,
    "check_s": done - loaded,
    "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "transactions": result.stats["transactions"],
    "edges": result.stats["edges"],
    "anomalies": {kind: len(cases) for kind, cases in result.anomalies.items()},
}))
"""


def generate(transactions: int, concurrency: int, seed: int = 7) -> list[dict]:
    """An Elle history of ``transactions`` list-append transactions, ``concurrency`` at a time."""
    rng = random.Random(seed)
    state: dict[int, list[int]] = {}
    slots, per_key, generation = 10, 8, [0] * 10
    ops: list[dict] = []
    open_: dict[int, dict] = {}
    started = counter = 0
    while started < transactions or open_:
        if started < transactions and len(open_) < concurrency:
            process = started  # a process per transaction keeps every invocation distinct
            mops = []
            for _ in range(rng.randint(1, 4)):
                slot = rng.randrange(slots)
                key = slot + slots * generation[slot]
                if rng.random() < 0.5:
                    counter += 1
                    mops.append(["append", key, counter])
                else:
                    mops.append(["r", key, None])
            ops.append({"process": process, "type": "invoke", "value": [list(m) for m in mops]})
            open_[process] = {"mops": mops, "next": 0, "own": {}}
            started += 1
            continue
        process = rng.choice(list(open_))
        txn = open_[process]
        if txn["next"] < len(txn["mops"]):
            f, key, value = txn["mops"][txn["next"]]
            if f == "append":
                txn["own"].setdefault(key, []).append(value)
            else:  # committed state, then the transaction's own appends
                seen = state.get(key, []) + txn["own"].get(key, [])
                txn["mops"][txn["next"]] = ["r", key, seen or None]
                if len(seen) >= per_key and generation[key % slots] == key // slots:
                    generation[key % slots] += 1
            txn["next"] += 1
            continue
        for key, values in txn["own"].items():
            state.setdefault(key, []).extend(values)
        ops.append({"process": process, "type": "ok", "value": txn["mops"]})
        del open_[process]
    for index, op in enumerate(ops):
        op["index"] = index
    return ops


def cpu_reference() -> float:
    """Seconds for a fixed pure-Python loop (10 million additions): about 0.5 s on an idle core
    of this machine; the ratio says how contended the cores were while the figures were taken."""
    started, total = time.perf_counter(), 0
    for i in range(10_000_000):
        total += i
    return time.perf_counter() - started


def main(argv: list[str]) -> None:
    sizes = [
        int(s) for s in (argv[0] if argv and not argv[0].startswith("-") else "10000,30000,100000").split(",")
    ]
    concurrency = int(argv[argv.index("--concurrency") + 1]) if "--concurrency" in argv else 10
    keep = Path(argv[argv.index("--keep") + 1]) if "--keep" in argv else None
    with tempfile.TemporaryDirectory() as scratch:
        folder = keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        print(f"CPU reference before: {cpu_reference():.2f} s; load average {os.getloadavg()[0]:.1f}")
        print("| transactions | ops | MiB | load s | check s | total s | peak MiB | edges | found |")
        print("|--:|--:|--:|--:|--:|--:|--:|--:|---|")
        for size in sizes:
            path = folder / f"history-{size}.json"
            ops = generate(size, concurrency)
            path.write_text("[\n" + ",\n".join(json.dumps(op) for op in ops) + "\n]\n")
            del ops
            child = subprocess.run(
                [sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True, check=True
            )
            sys.stderr.write(child.stderr)
            r = json.loads(child.stdout)
            found = ", ".join(f"{k} {v:,}" for k, v in sorted(r["anomalies"].items()))
            print(
                f"| {r['transactions']:,} | {2 * r['transactions']:,} | {path.stat().st_size / 2**20:.1f} "
                f"| {r['load_s']:.2f} | {r['check_s']:.2f} | {r['load_s'] + r['check_s']:.2f} "
                f"| {r['peak_mib']:.0f} | {r['edges']:,} | {found} |",
                flush=True,
            )
        print(f"CPU reference after: {cpu_reference():.2f} s; load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main(sys.argv[1:])
