"""concord/floor from two checkouts of concord, alternating, in one run (issue 23's target).

    python benchmarks/ab_floor.py OLD_DIR NEW_DIR [rounds] [workers,...] [seconds]

Each round runs ``concord calibrate --floor -r 2 -e threads -w W`` from each checkout in turn
(``PYTHONPATH``; which goes first alternates), against the same embedded server. One calibrate
run is pgbench, the floor (psycopg's libpq calls in a loop, no concord code) and concord, back to
back, so each side's concord/floor pairs its own concord with a floor measured seconds apart: a
neighbour's load moves both. Two calibrate rounds, because calibrate reverses the order of its
clients every other round: with one, concord always ran last, on the shared row after the
others had left the most dead versions on its page (concord/floor 0.72 to 0.76 at one worker
where two rounds give about 0.9). Prints every round's concord/floor per side, the medians, and the
median of the rounds' new/old ratios of concord/floor.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys


def calibrate(source: str, workers: int, seconds: float) -> dict:
    command = [sys.executable, "-m", "concord", "calibrate", "--floor", "-r", "2", "-e", "threads"]
    command += ["-w", str(workers), "-d", str(seconds), "--json"]
    env = {**os.environ, "PYTHONPATH": source}
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True, cwd=source)
    [row] = json.loads(done.stdout)["rows"]
    return row


def main() -> None:
    old, new = sys.argv[1], sys.argv[2]
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    counts = [int(w) for w in (sys.argv[4] if len(sys.argv) > 4 else "1,8,50").split(",")]
    seconds = float(sys.argv[5]) if len(sys.argv) > 5 else 3.0
    for workers in counts:
        found: dict[str, list[float]] = {"old": [], "new": []}
        tps: dict[str, list[float]] = {"old": [], "new": [], "floor": []}
        for round_ in range(rounds):
            sides = [("old", old), ("new", new)] if round_ % 2 == 0 else [("new", new), ("old", old)]
            line = []
            for name, source in sides:
                row = calibrate(source, workers, seconds)
                found[name].append(row["concord_vs_floor"])
                tps[name].append(row["concord_median"])
                tps["floor"].append(row["floor_median"])
                line.append(f"{name} {row['concord_vs_floor']:.3f}")
            print(f"{workers:>3} workers, round {round_ + 1}: {', '.join(line)}", flush=True)
        ratios = [n / o for n, o in zip(found["new"], found["old"], strict=True)]
        print(
            f"{workers:>3} workers: concord/floor old {statistics.median(found['old']):.3f}, "
            f"new {statistics.median(found['new']):.3f} (new/old per round "
            f"{' '.join(f'{r:.3f}' for r in ratios)}, median {statistics.median(ratios):.3f}); "
            f"median tps old {statistics.median(tps['old']):,.0f}, new {statistics.median(tps['new']):,.0f}, "
            f"floor {statistics.median(tps['floor']):,.0f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
