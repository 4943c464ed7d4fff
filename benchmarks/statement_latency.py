"""Where a transaction's time goes: per-statement latency, concord against pgbench -r.

    python benchmarks/statement_latency.py [workers] [seconds]

Runs the calibration transaction (counter, pessimistic) once through `pgbench -r` (its
per-statement average latencies) and once through `concord race`'s own workers, with each
statement of the workers' `LibpqSession` timed from the call to the loaded result, plus the two
gaps the worker's Python spends inside the row lock: from the locking read's result to sending
the UPDATE, and from the UPDATE's result to sending COMMIT. Compare the UPDATE and COMMIT rows:
they are the row lock's hold time, so they set the throughput at 8 or more workers.

The timing wraps the session's methods, so it adds a little time of its own; the threads
executor only (a process worker's numbers would stay in the child).
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from concord.calibrate import Calibration, find_pgbench, pgbench_connection, prepare, run_concord
from concord.db.engine import create_engine
from concord.db.migrate import ensure_schema
from concord.db.urls import libpq_dsn, resolve_url
from concord.race import libpq
from concord.race.steps import Fetch, drive

SAMPLES: dict[str, list[float]] = {"BEGIN": [], "SELECT ... FOR UPDATE": [], "UPDATE": [], "COMMIT": []}
GAPS: dict[str, list[float]] = {"read result -> UPDATE sent": [], "UPDATE result -> COMMIT sent": []}


def instrument() -> None:
    """Time the blocking session's statements (the threads and processes executors' path)."""
    session = libpq.LibpqSession
    execute, begin, commit = session.execute, session.begin, session.commit
    clock = time.perf_counter

    def timed_execute(self, sql, params):
        started = clock()
        if sql.fetch is Fetch.ROWCOUNT:
            GAPS["read result -> UPDATE sent"].append(started - self._last_result)
        value = execute(self, sql, params)
        self._last_result = ended = clock()
        SAMPLES["SELECT ... FOR UPDATE" if sql.fetch is Fetch.ROW else "UPDATE"].append(ended - started)
        return value

    def timed_begin(self):
        started = clock()
        begin(self)
        SAMPLES["BEGIN"].append(clock() - started)

    def timed_commit(self):
        started = clock()
        GAPS["UPDATE result -> COMMIT sent"].append(started - self._last_result)
        commit(self)
        SAMPLES["COMMIT"].append(clock() - started)

    def timed_transaction(self, operation):  # the worker's one-frame transaction, step by step
        self.begin()
        outcome = drive(self.execute, operation)
        self.commit()
        return outcome

    session.execute, session.begin, session.commit = timed_execute, timed_begin, timed_commit
    session.transaction = timed_transaction


def pgbench_latencies(dsn: str, script: str, task_id: int, workers: int, seconds: float) -> str:
    args, env = pgbench_connection(dsn)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "counter.sql"
        path.write_text(script)
        jobs = Calibration().pgbench_jobs(workers)
        command = [
            str(find_pgbench()), "-n", "-r", "-M", "prepared", "-f", str(path), "-D", f"task_id={task_id}",
            "-c", str(workers), "-j", str(jobs), "-T", str(max(1, round(seconds))), *args,
        ]  # fmt: skip
        environment = {**os.environ, **env}
        out = subprocess.run(command, capture_output=True, text=True, env=environment, check=True).stdout
    lines = [line for line in out.splitlines() if line.startswith("tps") or re.match(r"^\s+[0-9.]+\s", line)]
    return "\n".join(lines)


def main() -> None:
    workers = int(sys.argv[1]) if len(sys.argv) > 1 else 8
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 4.0
    url = resolve_url(None)
    dsn = libpq_dsn(url)
    engine = create_engine(url, poolclass=sa.NullPool)
    ensure_schema(engine)
    script, fixture, _ = prepare(engine, workers)
    print(f"pgbench -r, {workers} clients (latencies in ms):")
    print(pgbench_latencies(dsn, script, fixture.tasks[0], workers, seconds))
    instrument()
    tps = run_concord(str(url), workers, "threads", seconds)
    print(f"\nconcord race, {workers} thread workers: tps = {tps:.0f} (latencies in ms, mean / median)")
    for name, values in {**SAMPLES, **GAPS}.items():
        print(f"  {statistics.mean(values) * 1e3:8.3f} {statistics.median(values) * 1e3:8.3f}  {name}")


if __name__ == "__main__":
    main()
