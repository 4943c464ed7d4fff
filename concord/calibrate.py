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

With ``floor`` a third client joins each round: the plainest Python client there is (`run_floor`:
a thread per connection calling psycopg's libpq wrapper directly, no concord code in its loop).
Its throughput against pgbench's is what Python and psycopg cost on this machine; concord's
against it is what concord's own harness costs on top.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import psycopg
import sqlalchemy as sa
from psycopg import pq
from psycopg.conninfo import conninfo_to_dict

from concord.errors import ConcordError, InvalidInput
from concord.models import Task
from concord.nouns import count
from concord.race.program import Sql
from concord.race.programs.base import Fixture
from concord.race.scenarios.counter import POINTS_BEFORE, Counter

if TYPE_CHECKING:
    from concord.race.programs.counter import CounterProgram
    from concord.race.results import CellResult

EXECUTORS = ("threads", "processes", "asyncio")
TARGET_RATIO = 0.9
_COMMAND_OK, _TUPLES_OK = int(pq.ExecStatus.COMMAND_OK), int(pq.ExecStatus.TUPLES_OK)
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
    #: Also run the plain-Python floor (`run_floor`) in every round, once per worker count.
    floor: bool = False

    def validated(self) -> Calibration:
        if not self.workers or any(w < 1 for w in self.workers):
            raise InvalidInput("workers must be whole numbers of at least 1")
        unknown = [e for e in self.executors if e not in EXECUTORS]
        if unknown or not self.executors:
            raise InvalidInput(
                f"unknown executor {unknown[0] if unknown else ''!r}: choose {', '.join(EXECUTORS)} or all"
            )
        whole_seconds(self.duration_s)
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
    #: The plain-Python floor's runs (`run_floor`), when measured: one per round and worker
    #: count, shared by that worker count's executors.
    floor_tps: list[float] = field(default_factory=list)

    @property
    def ratios(self) -> list[float]:
        return _ratios(self.concord_tps, self.pgbench_tps)

    @property
    def ratio(self) -> float | None:
        return _median_ratio(self.ratios)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["pgbench_median"] = _median(self.pgbench_tps)
        out["concord_median"] = _median(self.concord_tps)
        out["ratios"] = [round(r, 3) for r in self.ratios]
        out["ratio"] = self.ratio
        if self.floor_tps:
            out["floor_median"] = _median(self.floor_tps)
            # what Python and psycopg cost here, and what concord costs on top of them
            out["floor_vs_pgbench"] = _median_ratio(_ratios(self.floor_tps, self.pgbench_tps))
            out["concord_vs_floor"] = _median_ratio(_ratios(self.concord_tps, self.floor_tps))
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
        """Per worker count, the executor with the highest median ratio.

        Picked after the fact among noisy estimates, so biased upward: informative, but the target
        is judged on `headline`.
        """
        out: dict[int, Row] = {}
        for row in self.rows:
            if row.ratio is not None and (
                row.workers not in out or row.ratio > (out[row.workers].ratio or 0)
            ):
                out[row.workers] = row
        return out

    def headline(self) -> dict[int, float]:
        """Per worker count, the median executor's ratio: the figure the target is judged on.

        Each executor's ratio is already a median over rounds; taking the highest of them would
        reward whichever drew the luckier rounds. The median across executors picks nothing, so
        it carries no such bias (with one executor it is that executor's ratio).
        """
        by_workers: dict[int, list[float]] = {}
        for row in self.rows:
            if row.ratio is not None:
                by_workers.setdefault(row.workers, []).append(row.ratio)
        return {w: round(statistics.median(r), 3) for w, r in sorted(by_workers.items())}

    def as_dict(self) -> dict[str, Any]:
        best, headline = self.best(), self.headline()
        return {
            "started_at": self.started_at,
            "pgbench": self.pgbench,
            "script": self.script,
            "parameters": self.parameters,
            "default_executor": self.default_executor,
            "target_ratio": TARGET_RATIO,
            "rows": [r.as_dict() for r in self.rows],
            "best": {str(w): {"executor": r.executor, "ratio": r.ratio} for w, r in sorted(best.items())},
            "headline": {str(w): ratio for w, ratio in headline.items()},
            "target_met": bool(headline) and all(r >= TARGET_RATIO for r in headline.values()),
            "interrupted": self.interrupted,
            "files": self.files,
        }


def whole_seconds(duration_s: float) -> int:
    """``duration_s`` as pgbench's ``-T``; `InvalidInput` unless a whole number of at least 1.

    pgbench takes no fractions: any other duration would run pgbench and concord for different
    times.
    """
    if not (duration_s >= 1 and float(duration_s).is_integer()):
        raise InvalidInput(
            f"duration must be a whole number of seconds of at least 1 (pgbench -T), not {duration_s!r}"
        )
    return int(duration_s)


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
        "-c", str(workers), "-j", str(jobs), "-T", str(whole_seconds(duration_s)),
        *conn_args,
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, **env}, check=False)
    match = _TPS.search(done.stdout)
    if done.returncode != 0 or match is None:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise ConcordError(f"pgbench failed (exit {done.returncode}): {last}")
    return float(match.group(1))


def run_concord(
    url: str, workers: int, executor: str, duration_s: float, fixture: Fixture | None = None
) -> float:
    """One run of concord's own harness on the same transaction; its commits per second.

    With ``fixture`` (calibrate's own counter row) concord increments the very row pgbench and the
    floor increment; without it, a counter row of its own.
    """
    return concord_cell(url, workers, executor, duration_s, fixture).throughput


def concord_cell(
    url: str, workers: int, executor: str, duration_s: float, fixture: Fixture | None = None
) -> CellResult:
    """The cell of `run_concord`, whole; `ConcordError` when it lost a worker or committed nothing."""
    from concord.race import Experiment, run_experiment

    experiment = Experiment(
        scenario="counter",
        strategies=("pessimistic",),
        workers=(workers,),
        executor=executor,
        duration_s=duration_s,
        # pgbench samples nothing: neither does concord's side of the comparison
        waits=False,
    )
    scenario = None if fixture is None else CounterOnRow(fixture)
    result = run_experiment(experiment, database_url=url, scenario=scenario)
    if result.interrupted:
        raise KeyboardInterrupt
    [cell] = result.cells
    if cell.violations or cell.worker_errors or cell.dead_workers or not cell.commits:
        problems = [*cell.worker_errors, *(d["reason"] for d in cell.dead_workers)]
        raise ConcordError(
            f"concord's run went wrong ({executor}, {count(workers, 'worker')}): {cell.finding}"
            + (f"; {problems[0]}" if problems else "")
        )
    return cell


class CounterOnRow(Counter):
    """The counter scenario on an existing row (calibrate's), shared with pgbench and the floor.

    Its setup reads where the counter stands, so the check counts this cell's increments from
    there; its teardown leaves the row, which calibrate deletes at the end.
    """

    def __init__(self, fixture: Fixture) -> None:
        self.fixture = fixture

    def setup(self, conn: sa.Connection, workers: int, ops: int | None) -> Fixture:
        task = Task.__table__
        points = conn.execute(sa.select(task.c.points).where(task.c.id == self.fixture.tasks[0])).scalar_one()
        return replace(self.fixture, workers=workers, extra={**self.fixture.extra, POINTS_BEFORE: points})

    def teardown(self, conn: sa.Connection, fixture: Fixture) -> None:
        pass


def run_floor(
    dsn: str, read: Sql, write: Sql, task_id: int, workers: int, duration_s: float
) -> tuple[int, float]:
    """The same transaction from the plainest Python client; its commits and seconds.

    A thread per connection, each looping over psycopg's libpq wrapper directly (prepared BEGIN,
    read, write, COMMIT, the increment computed in Python between read and write), with no concord
    code inside the loop: what separates its throughput from pgbench's is Python's and psycopg's
    own cost on this machine, not concord's. Every result is checked; a failed statement ends the
    run with `ConcordError`.
    """
    key = str(task_id).encode()
    constants = {"task_id": key, **{k: str(v).encode() for k, v in write.defaults.items()}}
    if set(read.names) - constants.keys() or set(write.names) - constants.keys() - {"points"}:
        raise ConcordError(f"the floor cannot bind {read.names} and {write.names}")
    read_args = [constants[name] for name in read.names]
    write_args = [None if name == "points" else constants[name] for name in write.names]
    at = write.names.index("points")
    statements = ((b"b", b"BEGIN"), (b"r", read.numbered), (b"w", write.numbered), (b"c", b"COMMIT"))
    go = threading.Barrier(workers + 1, timeout=60)
    counts, failures = [0] * workers, []
    ends = [float("inf")]  # the coordinator sets the deadline once all are connected, or 0 to stop

    def loop(worker: int) -> None:
        try:
            with psycopg.connect(dsn, autocommit=True, application_name="concord calibrate floor") as conn:
                pgconn = conn.pgconn
                for name, text in statements:
                    if (prepared := pgconn.prepare(name, text)).status != _COMMAND_OK:
                        _floor_failed(pgconn, prepared)
                run, args = pgconn.exec_prepared, list(write_args)
                go.wait()
                done = 0
                while time.perf_counter() < ends[0]:  # checks inline: no call the loop can spare
                    if (result := run(b"b", None)).status != _COMMAND_OK:
                        _floor_failed(pgconn, result)
                    if (result := run(b"r", read_args)).status != _TUPLES_OK:
                        _floor_failed(pgconn, result)
                    if not result.ntuples:
                        raise ConcordError(f"the floor's read found no task {task_id}")
                    args[at] = str(int(result.get_value(0, 0)) + 1).encode()
                    if (result := run(b"w", args)).status != _COMMAND_OK:
                        _floor_failed(pgconn, result)
                    if (result := run(b"c", None)).status != _COMMAND_OK:
                        _floor_failed(pgconn, result)
                    done += 1
                counts[worker] = done
        except BaseException as exc:  # reported by the caller, once every thread is done
            failures.append(exc)
            go.abort()

    threads = [threading.Thread(target=loop, args=(w,), name=f"floor-{w}") for w in range(workers)]
    started = time.perf_counter()
    try:
        for thread in threads:
            thread.start()
        with contextlib.suppress(threading.BrokenBarrierError):  # a thread failed: reported below
            go.wait()
        started = time.perf_counter()
        ends[0] = started + duration_s
        for thread in threads:
            thread.join()
    except BaseException:
        # Ctrl-C, while the threads start, connect or race: those at the start line are let go
        # (the broken barrier ends them), the others end their transaction; every thread that
        # started closes its connection before this goes on.
        ends[0] = 0.0
        go.abort()
        for thread in threads:
            if thread.ident is not None:
                thread.join()
        raise
    elapsed = time.perf_counter() - started
    if failures:
        first = failures[0]
        raise first if isinstance(first, ConcordError) else ConcordError(f"the floor failed: {first}")
    return sum(counts), elapsed


def _floor_failed(pgconn: pq.abc.PGconn, result: pq.abc.PGresult) -> NoReturn:
    message = (result.error_message or pgconn.error_message).decode(errors="replace").strip()
    raise ConcordError(f"the floor's statement failed: {message or 'no result'}")


def _first_contact(engine: sa.Engine, url: sa.URL) -> None:
    """Migrate a fresh database; a failure is said as `concord.connect` says it (by masked URL)."""
    from concord.client import first_contact_error
    from concord.db.migrate import ensure_schema

    try:
        ensure_schema(engine)
    except sa.exc.DBAPIError as exc:
        raise first_contact_error(exc, url) from exc


def calibrate(
    calibration: Calibration,
    *,
    database_url: str | None = None,
    on_step: Callable[[str], None] | None = None,
) -> CalibrationReport:
    """Alternate pgbench and concord rounds at every worker count and executor; see the module doc."""
    from concord.db.engine import create_engine
    from concord.db.urls import libpq_dsn, resolve_url
    from concord.race.executors.aio import event_loop_parameter
    from concord.race.experiment import DEFAULT_EXECUTOR

    calibration = calibration.validated()
    parameters = {**asdict(calibration), **event_loop_parameter(calibration.executors)}
    pgbench = find_pgbench()
    url = resolve_url(database_url)
    dsn = libpq_dsn(url)
    engine = create_engine(url, poolclass=sa.NullPool)
    try:
        _first_contact(engine, url)
        script, fixture, program = _prepare(engine, max(calibration.workers))
        report = CalibrationReport(
            started_at=datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
            pgbench=str(pgbench),
            script=script,
            parameters=parameters,
            default_executor=DEFAULT_EXECUTOR,
        )
        with tempfile.TemporaryDirectory(prefix="concord-calibrate-") as tmp:
            path = Path(tmp) / "counter.sql"
            path.write_text(script)
            try:
                clients = _Clients(pgbench, path, dsn, str(url), fixture, program)
                _rounds(calibration, report, clients, on_step)
            except KeyboardInterrupt:
                report.interrupted = True
        with engine.begin() as conn:
            Counter().teardown(conn, fixture)
    finally:
        engine.dispose()
    return report


def _prepare(engine: sa.Engine, workers: int):
    from concord.locking import get_strategy

    with engine.begin() as conn:
        fixture = Counter().setup(conn, workers, None)
    program = Counter().program(get_strategy("pessimistic"), fixture)
    script = pgbench_script(
        program.read.numbered, program.read.names, program.write.numbered, program.write.names
    )
    return script, fixture, program


@dataclass(frozen=True)
class _Clients:
    """What each client of a round needs: pgbench's script, the server, the row, the statements.

    All three clients increment the one row of ``fixture``: the same page, the same chain of
    dead versions, the same index entry.
    """

    pgbench: Path
    script: Path
    dsn: str
    url: str
    fixture: Fixture
    program: CounterProgram  # its read and write statements, for the floor

    @property
    def task_id(self) -> int:
        return self.fixture.tasks[0]


def _rounds(calibration: Calibration, report: CalibrationReport, clients: _Clients, on_step) -> None:
    rows = {(w, e): Row(w, e) for w in calibration.workers for e in calibration.executors}
    report.rows = list(rows.values())
    duration = calibration.duration_s

    def step(side: str, workers: int, number: int) -> None:
        if on_step:
            on_step(f"round {number + 1}/{calibration.rounds}: {side}, {count(workers, 'worker')}")

    def floor(workers: int, number: int) -> None:
        step("python floor", workers, number)
        read, write = clients.program.read, clients.program.write
        commits, seconds = run_floor(clients.dsn, read, write, clients.task_id, workers, duration)
        tps = round(commits / seconds, 1)
        for executor in calibration.executors:
            rows[(workers, executor)].floor_tps.append(tps)

    for number in range(calibration.rounds):
        for workers in calibration.workers:
            first = number % 2 == 0
            if calibration.floor and first:
                floor(workers, number)
            for executor in calibration.executors:
                row = rows[(workers, executor)]
                for side in ["pgbench", "concord"] if first else ["concord", "pgbench"]:
                    if side == "pgbench":
                        step("pgbench", workers, number)
                        jobs = calibration.pgbench_jobs(workers)
                        tps = run_pgbench(
                            clients.pgbench, clients.script, clients.dsn, clients.task_id,
                            workers, duration, jobs,
                        )  # fmt: skip
                        row.pgbench_tps.append(round(tps, 1))
                    else:
                        step(f"concord ({executor})", workers, number)
                        tps = run_concord(clients.url, workers, executor, duration, clients.fixture)
                        row.concord_tps.append(round(tps, 1))
            if calibration.floor and not first:
                floor(workers, number)


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


def _ratios(tops: list[float], bottoms: list[float]) -> list[float]:
    """Per-round ratios of two clients' throughputs (rounds either lacks are left out)."""
    return [t / b for t, b in zip(tops, bottoms, strict=False) if b > 0]


def _median_ratio(ratios: list[float]) -> float | None:
    return round(statistics.median(ratios), 3) if ratios else None


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None
