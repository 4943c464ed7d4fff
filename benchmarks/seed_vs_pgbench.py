"""`concord seed` beside `pgbench -i` on the same server, alternating, medians of three.

    CONCORD_HOME=/tmp/seed-home python benchmarks/seed_vs_pgbench.py --tasks 1000000 --scale 10
    git archive main | tar -x -C /tmp/before   # an earlier concord, to compare with
    python benchmarks/seed_vs_pgbench.py --baseline-src /tmp/before

``--baseline-src DIR`` adds a third contender: the seed of the concord source tree in DIR, run in
a child process (``PYTHONPATH=DIR``) that reports its own seconds, so "before" and "after" are
measured in the same run, in turn with pgbench. ``--no-pgbench`` leaves pgbench out (for the
ten-million-task runs, whose target is a time, not a ratio).

Each round runs ``pgbench -i -s SCALE`` (into a database of its own, ``concord_pgbench``) and
``seed(..., existing=RESET)`` of TASKS tasks into concord's database, the order swapped every round
so that a drift in the machine's load falls on both. It prints every round's wall time, the seed's
phases, then the medians and the ratio seed/pgbench of the medians and of each
round. On a shared machine the figures move from minute to minute: only the side-by-side ratio
means much. When the server runs on this machine it also prints the CPU seconds each side took,
client and server together (the server's from /proc: the postmaster's tree, its exited backends
included), which a busy machine disturbs less than the wall time, and the seed's CPU seconds
phase by phase and object by object (a table copied or analyzed, an index, a key: read at each
step the seed's progress reports, as the command line's progress bar hears them, its poller's
connection included; the last object of ``keys`` runs to the end of the commit). The load average
is printed before every round and at the end: on a shared machine it says how busy the others
kept the cores. ``--database-url`` takes
another server (its user must be allowed to create a database).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
from psycopg import sql

from concord.calibrate import find_pgbench, pgbench_connection
from concord.db.urls import libpq_dsn, resolve_url
from concord.seed import ExistingData, SeedPlan, Step, seed

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
    has reaped (cutime, cstime), which is where a closed connection's backend ends up. A child
    reaped while /proc is scanned would be counted in neither, so the scan is taken again until
    the reaped children's total stays the same across it."""
    if postmaster is None:
        return 0.0
    while True:
        reaped = sum(int(value) for value in _stat(postmaster)[13:15])
        total = reaped + sum(int(value) for value in _stat(postmaster)[11:13])
        for child in Path("/proc").glob("[0-9]*"):
            try:
                stat = _stat(int(child.name))
            except (FileNotFoundError, ProcessLookupError):
                continue
            if int(stat[1]) == postmaster:
                total += int(stat[11]) + int(stat[12])
        if sum(int(value) for value in _stat(postmaster)[13:15]) == reaped:
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


class PhaseCpu:
    """A seed's progress listener that notes the CPU seconds (client and server) at each step to a
    new object: a table copied or analyzed, an index or key built. ``spent`` holds each
    ``(phase, object)``'s CPU once `close` has ended the last one; the object ``""`` is what follows
    a phase's last object (for ``keys``: the sequences and the commit)."""

    def __init__(self, postmaster: int | None) -> None:
        self.postmaster = postmaster
        self.unit: tuple[str, str] | None = None
        self.mark = 0.0
        self.spent: dict[tuple[str, str], float] = {}

    def _now(self) -> float:
        return client_cpu() + server_cpu(self.postmaster)

    def __call__(self, step: Step) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # the progress poller, repeating the current step with a fraction
        if (step.phase, step.what) != self.unit:
            self.close()
            self.unit, self.mark = (step.phase, step.what), self._now()

    def close(self) -> None:
        if self.unit is not None:
            self.spent[self.unit] = self.spent.get(self.unit, 0.0) + self._now() - self.mark
            self.unit = None

    def phases(self) -> dict[str, float]:
        by_phase: dict[str, float] = {}
        for (phase, _), value in self.spent.items():
            by_phase[phase] = by_phase.get(phase, 0.0) + value
        return by_phase


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


BASELINE = """
import json, sys
from concord.seed import ExistingData, SeedPlan, seed
report = seed(sys.argv[1], SeedPlan(tasks=int(sys.argv[2])), existing=ExistingData.RESET)
print(json.dumps(report.as_dict()))
"""


def baseline_seed(source: Path, url: str, tasks: int) -> dict:
    """The seed of the concord source tree in ``source``, in a child process: its report."""
    done = subprocess.run(
        [sys.executable, "-c", BASELINE, url, str(tasks)],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(source)},
        cwd=source,
    )
    return json.loads(done.stdout)


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
    parser.add_argument("--baseline-src", type=Path, default=None, help="an earlier concord source tree")
    parser.add_argument("--no-pgbench", action="store_true")
    args = parser.parse_args()

    url = resolve_url(args.database_url)
    dsn = libpq_dsn(url)
    ensure_database(dsn, PGBENCH_DATABASE)
    pgbench_dsn = libpq_dsn(url.set(database=PGBENCH_DATABASE))
    postmaster = find_postmaster(dsn)
    plan = SeedPlan(tasks=args.tasks)
    contenders = ["seed"] + ([] if args.no_pgbench else ["pgbench"])
    contenders += ["baseline"] if args.baseline_src else []
    wall: dict[str, list[float]] = {name: [] for name in contenders}
    cpu: dict[str, list[float]] = {name: [] for name in contenders}
    phases: dict[str, list[float]] = {}
    phase_cpu: dict[str, list[float]] = {}
    object_cpu: dict[tuple[str, str], list[float]] = {}
    for round_ in range(args.rounds):
        print(f"round {round_ + 1}: load average {load_average()}", flush=True)
        shift = round_ % len(contenders)  # each contender goes first in turn
        for what in contenders[shift:] + contenders[:shift]:
            alive = children(postmaster) if postmaster is not None else set()
            before = client_cpu() + server_cpu(postmaster)
            if what == "pgbench":
                wall[what].append(pgbench_init(pgbench_dsn, args.scale))
                line = f"pgbench -i -s {args.scale}  {wall[what][-1]:6.2f} s"
            elif what == "seed":
                watch = PhaseCpu(postmaster)
                report = seed(url, plan, existing=ExistingData.RESET, progress=watch)
                settled(postmaster, alive)  # the seed's backends have exited: their CPU is in
                watch.close()
                wall[what].append(report.seconds)
                for name, value in report.phases.items():
                    phases.setdefault(name, []).append(value)
                for name, value in watch.phases().items():
                    phase_cpu.setdefault(name, []).append(value)
                for unit, value in watch.spent.items():
                    object_cpu.setdefault(unit, []).append(value)
                shown = ", ".join(f"{name} {value:.2f}" for name, value in report.phases.items())
                spent = ", ".join(f"{name} {value:.2f}" for name, value in watch.phases().items())
                line = f"seed --tasks {args.tasks:,}  {report.seconds:6.2f} s ({shown}; cpu {spent})"
            else:
                document = baseline_seed(
                    args.baseline_src, url.render_as_string(hide_password=False), args.tasks
                )
                wall[what].append(document["seconds"])
                shown = ", ".join(f"{name} {value:.2f}" for name, value in document["phases"].items())
                line = f"baseline seed --tasks {args.tasks:,}  {document['seconds']:6.2f} s ({shown})"
            settled(postmaster, alive)
            cpu[what].append(client_cpu() + server_cpu(postmaster) - before)
            print(f"round {round_ + 1}: {line}; cpu {cpu[what][-1]:.2f} s", flush=True)
    summary(wall, cpu if postmaster is not None else None, phases)
    if postmaster is not None:
        print(
            "seed cpu by phase, medians: "
            + ", ".join(f"{n} {statistics.median(v):.2f}" for n, v in phase_cpu.items())
        )
        for (phase, what), values in object_cpu.items():
            print(f"  {phase:8s} {what or '(after the last)':40s} cpu {statistics.median(values):6.2f} s")
    print(f"load average at the end: {load_average()}")


def summary(wall: dict[str, list[float]], cpu: dict[str, list[float]] | None, phases: dict) -> None:
    """Medians of each contender, and the ratios of the seed to the others (of the medians and of
    each round, the rounds being side by side)."""
    median = {name: statistics.median(values) for name, values in wall.items()}
    print("medians: " + ", ".join(f"{name} {value:.2f} s" for name, value in median.items()))
    print("seed phases, medians: " + ", ".join(f"{n} {statistics.median(v):.2f}" for n, v in phases.items()))
    for other in [name for name in wall if name != "seed"]:
        rounds = ", ".join(f"{s / o:.2f}" for s, o in zip(wall["seed"], wall[other], strict=True))
        print(f"seed / {other}: {median['seed'] / median[other]:.2f} (per round: {rounds})")
        if cpu is not None:
            seed_cpu, other_cpu = statistics.median(cpu["seed"]), statistics.median(cpu[other])
            ratio = seed_cpu / other_cpu
            print(f"  cpu medians: seed {seed_cpu:.2f} s, {other} {other_cpu:.2f} s, ratio {ratio:.2f}")


if __name__ == "__main__":
    main()
