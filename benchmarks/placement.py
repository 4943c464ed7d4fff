"""Where the client runs next to its backend: pgbench, the plain-Python floor and concord, 1 worker.

    python benchmarks/placement.py [rounds] [seconds]

On a 2-core virtual machine the throughput of one client is decided less by the client's CPU
than by where the kernel puts it: a client and its backend that take turns on one CPU hand each
round trip over with a context switch; on two CPUs every hand-over wakes a halted virtual CPU,
which costs a trip through the hypervisor (tens of µs when the guest does not poll before halting,
``/sys/module/haltpoll/parameters/guest_halt_poll_ns`` = 0).

This alternates pgbench (the script `concord calibrate` generates, one client), the floor of
`concord calibrate --floor` (psycopg's libpq calls in a loop) and `concord race` (threads), the
last two in a child process so the sampling below does not share their interpreter, and while
each runs it samples, every 2 ms, the CPU the client's busiest thread and its backend last ran
on (``/proc/TID/stat``, field 39). Prints each run's
throughput and the share of samples with both on the same CPU, and the kernel's count of the
client's involuntary context switches. Linux only; the server must be local (the embedded one).
"""

from __future__ import annotations

import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import sqlalchemy as sa

from concord.calibrate import find_pgbench, pgbench_connection, prepare, run_concord, run_floor
from concord.db.engine import create_engine
from concord.db.migrate import ensure_schema
from concord.db.urls import libpq_dsn, resolve_url


def last_cpu(pid: int) -> int:
    """The CPU ``pid`` last ran on (field 39 of /proc/PID/stat, after the command's parenthesis)."""
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[36])


def involuntary_switches(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("nonvoluntary_ctxt_switches:"):
            return int(line.split()[1])
    return 0


def busiest_thread(pid: int) -> int:
    """The thread of ``pid`` using the most CPU over the next 0.3 s: the one running transactions."""

    def used() -> dict[int, int]:
        out = {}
        for task in Path(f"/proc/{pid}/task").iterdir():
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
            out[int(task.name)] = int(fields[11]) + int(fields[12])  # utime + stime
        return out

    time.sleep(0.3)  # past the start-up
    before = used()
    time.sleep(0.3)
    after = used()
    return max(after, key=lambda tid: after[tid] - before.get(tid, 0))


def watch(client: int, backend: int, seconds: float) -> tuple[float, int]:
    """Share of 2 ms samples with client and backend on one CPU, and the client's preemptions."""
    client = busiest_thread(client)
    same = total = 0
    switches = involuntary_switches(client)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            same += last_cpu(client) == last_cpu(backend)
        except (FileNotFoundError, ProcessLookupError):
            break
        total += 1
        time.sleep(0.002)
    return (same / total if total else 0.0), involuntary_switches(client) - switches


def backend_of(dsn: str, application: str) -> int:
    with psycopg.connect(dsn, autocommit=True) as conn:
        for _ in range(100):
            row = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE application_name = %s AND pid <> pg_backend_pid()",
                (application,),
            ).fetchone()
            if row:
                return row[0]
            time.sleep(0.02)
    raise SystemExit(f"no backend for {application!r}")


def floor_child(dsn: str, program, task_id: int, seconds: float, out) -> None:
    commits, elapsed = run_floor(dsn, program.read, program.write, task_id, 1, seconds)
    out.put(commits / elapsed)


def race_child(url: str, seconds: float, out) -> None:
    out.put(run_concord(url, 1, "threads", seconds))


def in_child(target, args: tuple, dsn: str, application: str, seconds: float) -> tuple[float, float, int]:
    """Run ``target(*args, queue)`` in a child process; its tps, same-CPU share and preemptions."""
    out: multiprocessing.Queue = multiprocessing.Queue()
    child = multiprocessing.Process(target=target, args=(*args, out))
    child.start()
    share, preempted = watch(child.pid, backend_of(dsn, application), seconds)
    tps = out.get()
    child.join()
    return tps, share, preempted


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 3.0
    url = resolve_url(None)
    dsn = libpq_dsn(url)
    engine = create_engine(url, poolclass=sa.NullPool)
    ensure_schema(engine)
    script, fixture, program = prepare(engine, 1)
    task_id = fixture.tasks[0]
    conn_args, env = pgbench_connection(dsn)
    found: dict[str, list[tuple[float, float, int]]] = {"pgbench": [], "python floor": [], "concord race": []}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "counter.sql"
        path.write_text(script)
        command = [
            str(find_pgbench()), "-n", "-M", "prepared", "-f", str(path), "-D", f"task_id={task_id}",
            "-c", "1", "-j", "1", "-T", str(round(seconds + 1)), *conn_args,
        ]  # fmt: skip
        for _ in range(rounds):
            pgbench = subprocess.Popen(
                command, env={**os.environ, **env, "PGAPPNAME": "pgbench"}, stdout=subprocess.PIPE, text=True
            )
            share, preempted = watch(pgbench.pid, backend_of(dsn, "pgbench"), seconds)
            tps = float(pgbench.communicate()[0].split("tps = ")[1].split()[0])
            found["pgbench"].append((tps, share, preempted))

            floor = in_child(
                floor_child, (dsn, program, task_id, seconds + 1), dsn, "concord calibrate floor", seconds
            )
            found["python floor"].append(floor)
            race = in_child(race_child, (str(url), seconds + 1), dsn, "concord race worker 0", seconds)
            found["concord race"].append(race)
            for name, runs in found.items():
                tps, share, preempted = runs[-1]
                print(f"{name:13} {tps:7.0f} tps  same CPU {share:4.0%}  preempted {preempted:6d}")
            print(flush=True)
    for name, runs in found.items():
        tps = statistics.median(r[0] for r in runs)
        share = statistics.median(r[1] for r in runs)
        print(f"median {name:13} {tps:7.0f} tps  same CPU {share:4.0%}")


if __name__ == "__main__":
    main()
