"""A calibration run: the shared row, then rounds that alternate pgbench, concord and the floor."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from concord.calibrate.floor import run_floor
from concord.calibrate.harness import run_concord
from concord.calibrate.pgbench import find_pgbench, pgbench_script, run_pgbench
from concord.calibrate.plan import Calibration
from concord.calibrate.report import CalibrationReport, Row
from concord.nouns import count
from concord.race.scenarios.counter.scenario import Counter
from concord.race.scenarios.program import Fixture

if TYPE_CHECKING:
    from concord.race.scenarios.counter.program import CounterProgram


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
        script, fixture, program = prepare(engine, max(calibration.workers))
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


def prepare(engine: sa.Engine, workers: int) -> tuple[str, Fixture, CounterProgram]:
    """Calibrate's counter row, its pgbench script and concord's compiled program for it."""
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
