"""Calibration: concord's harness held against pgbench on the same transaction and server.

    from concord.calibrate import Calibration, calibrate
    report = calibrate(Calibration(workers=(1, 8, 50), duration_s=3, rounds=7))
    for row in report.rows:
        print(row.workers, row.executor, row.ratio)

The transaction is the `counter` scenario under `pessimistic`. pgbench's script is generated from
the very statements concord's hot path prepares (the ``read`` and ``write`` of
``Counter().program(...)``), with ``$n`` turned into pgbench variables, run with ``-M prepared``
on the same server, the same table and a fixture row of the same shape; the increment is computed
client-side (``\\set``), as concord does in Python between the read and the write. Rounds
alternate the two clients (pgbench first on even rounds, concord first on odd ones) so a drift in
the machine's load hits both; each row reports the median throughput of each side and the median
of the per-round ratios.
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from psycopg.conninfo import conninfo_to_dict

from concord.errors import ConcordError, InvalidInput

EXECUTORS = ("threads", "processes", "asyncio")
TARGET_RATIO = 0.9
_TPS = re.compile(r"^tps = ([0-9.]+) \(without initial connection time\)", re.MULTILINE)


class PgbenchMissing(ConcordError):
    """No pgbench next to the embedded server's binaries nor on PATH."""


@dataclass(frozen=True)
class Calibration:
    workers: tuple[int, ...] = (1, 8, 50)
    #: The two that came closest to pgbench here (threads at 1 and 8 workers, asyncio at 50) and
    #: start in a second; ``all`` adds processes.
    executors: tuple[str, ...] = ("threads", "asyncio")
    duration_s: float = 3.0
    rounds: int = 7  # single rounds swing by 10 to 30% on a shared 2-core machine: the median needs several
    #: pgbench -j, capped at the worker count: "cpus" (pgbench at its best on this machine: a few
    #: threads multiplexing the connections), "workers" (a thread per connection, the shape of
    #: concord's threads executor), or a number.
    pgbench_threads: int | str = "cpus"

    def validated(self) -> Calibration:
        if not self.workers or any(w < 1 for w in self.workers):
            raise InvalidInput("workers must be whole numbers of at least 1")
        unknown = [e for e in self.executors if e not in EXECUTORS]
        if unknown or not self.executors:
            raise InvalidInput(
                f"unknown executor {unknown[0] if unknown else ''!r}: choose {', '.join(EXECUTORS)} or all"
            )
        if not self.duration_s > 0:
            raise InvalidInput(f"duration must be positive, not {self.duration_s!r}")
        if self.rounds < 1:
            raise InvalidInput(f"rounds must be at least 1, not {self.rounds!r}")
        threads = self.pgbench_threads
        if threads not in ("cpus", "workers") and not (isinstance(threads, int) and threads >= 1):
            raise InvalidInput(
                f"pgbench threads must be cpus, workers or a number of at least 1, not {threads!r}"
            )
        return self

    def pgbench_jobs(self, workers: int) -> int:
        """pgbench's ``-j`` for a run of ``workers`` clients."""
        if self.pgbench_threads == "workers":
            return workers
        threads = (os.cpu_count() or 1) if self.pgbench_threads == "cpus" else int(self.pgbench_threads)
        return min(workers, threads)


@dataclass
class Row:
    """One worker count and executor: both clients' throughputs per round and their medians."""

    workers: int
    executor: str
    pgbench_tps: list[float] = field(default_factory=list)
    concord_tps: list[float] = field(default_factory=list)

    @property
    def ratios(self) -> list[float]:
        return [c / p for c, p in zip(self.concord_tps, self.pgbench_tps, strict=False) if p > 0]

    @property
    def ratio(self) -> float | None:
        return round(statistics.median(self.ratios), 3) if self.ratios else None

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["pgbench_median"] = _median(self.pgbench_tps)
        out["concord_median"] = _median(self.concord_tps)
        out["ratios"] = [round(r, 3) for r in self.ratios]
        out["ratio"] = self.ratio
        return out


@dataclass
class CalibrationReport:
    started_at: str
    pgbench: str
    script: str
    parameters: dict[str, Any]
    default_executor: str
    rows: list[Row] = field(default_factory=list)
    interrupted: bool = False
    files: dict[str, str] = field(default_factory=dict)

    def best(self) -> dict[int, Row]:
        """Per worker count, the executor with the highest median ratio."""
        out: dict[int, Row] = {}
        for row in self.rows:
            if row.ratio is not None and (
                row.workers not in out or row.ratio > (out[row.workers].ratio or 0)
            ):
                out[row.workers] = row
        return out

    def as_dict(self) -> dict[str, Any]:
        best = self.best()
        return {
            "started_at": self.started_at,
            "pgbench": self.pgbench,
            "script": self.script,
            "parameters": self.parameters,
            "default_executor": self.default_executor,
            "target_ratio": TARGET_RATIO,
            "rows": [r.as_dict() for r in self.rows],
            "best": {str(w): {"executor": r.executor, "ratio": r.ratio} for w, r in sorted(best.items())},
            "target_met": bool(best) and all((r.ratio or 0) >= TARGET_RATIO for r in best.values()),
            "interrupted": self.interrupted,
            "files": self.files,
        }


def find_pgbench() -> Path:
    """pgbench from the embedded server's wheel, else from PATH; `PgbenchMissing` if neither."""
    try:
        from concord.db.embedded import EmbeddedServer

        shipped = EmbeddedServer.default().bin_dir() / "pgbench"
        if shipped.exists():
            return shipped
    except Exception:  # no wheel, or it cannot say: fall back to PATH
        pass
    found = shutil.which("pgbench")
    if found is None:
        raise PgbenchMissing(
            "pgbench not found: install PostgreSQL's client tools or the embedded server wheel"
        )
    return Path(found)


def pgbench_script(
    read_sql: bytes, read_names: tuple[str, ...], write_sql: bytes, write_names: tuple[str, ...]
) -> str:
    """The counter transaction as a pgbench script, from concord's own prepared statements.

    The read's columns land in pgbench variables (``\\gset``: ``points``, ``version``), the
    increment is done client-side, and the write binds the new value, as concord's worker does.
    """
    read = _variables(read_sql.decode(), read_names)
    write = _variables(write_sql.decode(), write_names)
    return f"BEGIN;\n{read} \\gset\n\\set points :points + 1\n{write};\nCOMMIT;\n"


def _variables(numbered: str, names: tuple[str, ...]) -> str:
    flat = " ".join(numbered.split())
    return re.sub(r"\$(\d+)", lambda m: ":" + names[int(m.group(1)) - 1], flat)


def pgbench_connection(dsn: str) -> tuple[list[str], dict[str, str]]:
    """pgbench's connection arguments and environment from a libpq URL (host may be a socket dir)."""
    info = conninfo_to_dict(dsn)
    args, env = [], {}
    for key, flag in (("host", "-h"), ("port", "-p"), ("user", "-U")):
        if info.get(key):
            args += [flag, str(info[key])]
    if info.get("password"):
        env["PGPASSWORD"] = str(info["password"])
    args.append(str(info.get("dbname") or ""))
    return args, env


def run_pgbench(
    pgbench: Path, script: Path, dsn: str, task_id: int, workers: int, duration_s: float, jobs: int
) -> float:
    """One pgbench run of ``script``; its tps (without initial connection time)."""
    conn_args, env = pgbench_connection(dsn)
    command = [
        str(pgbench), "-n", "-M", "prepared", "-f", str(script), "-D", f"task_id={task_id}",
        "-c", str(workers), "-j", str(jobs), "-T", str(max(1, round(duration_s))),
        *conn_args,
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, **env}, check=False)
    match = _TPS.search(done.stdout)
    if done.returncode != 0 or match is None:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise ConcordError(f"pgbench failed (exit {done.returncode}): {last}")
    return float(match.group(1))


def run_concord(url: str, workers: int, executor: str, duration_s: float) -> float:
    """One run of concord's own harness on the same transaction; its commits per second."""
    from concord.race import Experiment, run_experiment

    experiment = Experiment(
        scenario="counter",
        strategies=("pessimistic",),
        workers=(workers,),
        executor=executor,
        duration_s=duration_s,
    )
    result = run_experiment(experiment, database_url=url)
    if result.interrupted:
        raise KeyboardInterrupt
    [cell] = result.cells
    if cell.violations or cell.worker_errors or cell.dead_workers or not cell.commits:
        problems = [*cell.worker_errors, *(d["reason"] for d in cell.dead_workers)]
        raise ConcordError(
            f"concord's run went wrong ({executor}, {workers} workers): {cell.finding}"
            + (f"; {problems[0]}" if problems else "")
        )
    return cell.throughput


def calibrate(
    calibration: Calibration,
    *,
    database_url: str | None = None,
    on_step: Callable[[str], None] | None = None,
) -> CalibrationReport:
    """Alternate pgbench and concord rounds at every worker count and executor; see the module doc."""
    from concord.db.engine import create_engine
    from concord.db.migrate import ensure_schema
    from concord.db.urls import libpq_dsn, resolve_url
    from concord.race.experiment import DEFAULT_EXECUTOR

    calibration = calibration.validated()
    pgbench = find_pgbench()
    url = resolve_url(database_url)
    dsn = libpq_dsn(url)
    engine = create_engine(url, poolclass=sa.NullPool)
    try:
        ensure_schema(engine)
        script, fixture = _prepare(engine, max(calibration.workers))
        report = CalibrationReport(
            started_at=datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
            pgbench=str(pgbench),
            script=script,
            parameters=asdict(calibration),
            default_executor=DEFAULT_EXECUTOR,
        )
        with tempfile.TemporaryDirectory(prefix="concord-calibrate-") as tmp:
            path = Path(tmp) / "counter.sql"
            path.write_text(script)
            try:
                _rounds(calibration, report, pgbench, path, dsn, url, fixture.tasks[0], on_step)
            except KeyboardInterrupt:
                report.interrupted = True
        with engine.begin() as conn:
            from concord.race.scenarios.counter import Counter

            Counter().teardown(conn, fixture)
    finally:
        engine.dispose()
    return report


def _prepare(engine: sa.Engine, workers: int):
    from concord.locking import get_strategy
    from concord.race.scenarios.counter import Counter

    with engine.begin() as conn:
        fixture = Counter().setup(conn, workers, None)
    program = Counter().program(get_strategy("pessimistic"), fixture)
    script = pgbench_script(
        program.read.numbered, program.read.names, program.write.numbered, program.write.names
    )
    return script, fixture


def _rounds(calibration, report, pgbench, script, dsn, url, task_id, on_step) -> None:
    rows = {(w, e): Row(w, e) for w in calibration.workers for e in calibration.executors}
    report.rows = list(rows.values())
    for number in range(calibration.rounds):
        for workers in calibration.workers:
            for executor in calibration.executors:
                row = rows[(workers, executor)]
                steps = ["pgbench", "concord"] if number % 2 == 0 else ["concord", "pgbench"]
                for side in steps:
                    if on_step:
                        on_step(
                            f"round {number + 1}/{calibration.rounds}: {side} {workers} workers ({executor})"
                        )
                    if side == "pgbench":
                        jobs = calibration.pgbench_jobs(workers)
                        duration = calibration.duration_s
                        tps = run_pgbench(pgbench, script, dsn, task_id, workers, duration, jobs)
                        row.pgbench_tps.append(round(tps, 1))
                    else:
                        tps = run_concord(str(url), workers, executor, calibration.duration_s)
                        row.concord_tps.append(round(tps, 1))


def write_report(report: CalibrationReport, out_dir: str | Path = ".") -> str:
    """Write ``results/<stamp>-calibrate.json``; return its path."""
    import json

    results = Path(out_dir) / "results"
    results.mkdir(parents=True, exist_ok=True)
    stamp = report.started_at.replace(":", "").replace("-", "").replace("Z", "")
    path = results / f"{stamp}Z-calibrate.json"
    report.files = {"json": str(path)}
    path.write_text(json.dumps(report.as_dict(), indent=2) + "\n")
    return str(path)


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None
