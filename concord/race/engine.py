"""Running an experiment: cell after cell, each set up, raced, stopped and checked.

    from concord.race import Experiment, run_experiment
    result = run_experiment(Experiment(scenario="counter", strategies=("none", "pessimistic")))
    for cell in result.cells:
        print(cell.strategy, cell.verdict)

Ctrl-C (KeyboardInterrupt) during a run stops the workers of the current cell, cancels their
in-flight queries, checks the invariant of what ran, and returns the partial result with
``interrupted = True``; the remaining cells are skipped. `run_experiment` never leaves a worker
thread, process or open transaction behind.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import psycopg.errors
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from concord import config
from concord.db.engine import create_engine
from concord.db.migrate import ensure_schema
from concord.db.urls import libpq_dsn, resolve_url
from concord.errors import translate
from concord.race.capacity import ensure_capacity
from concord.race.cell import CellRunner, ProgressCallback
from concord.race.executors import RunningCell
from concord.race.executors.aio import event_loop_parameter
from concord.race.experiment import Experiment, load_experiment
from concord.race.plan import RunPlan, plan_run
from concord.race.results import RaceResult
from concord.race.scenarios import Scenario
from concord.race.waits.server import flush_statistics
from concord.race.waits.watch import Waits

SETTINGS = (
    "max_connections",
    "shared_buffers",
    "synchronous_commit",
    "fsync",
    "deadlock_timeout",
    "default_transaction_isolation",
    "max_locks_per_transaction",
    "max_pred_locks_per_transaction",
)


def run_experiment(
    experiment: Experiment | RunPlan | str | Path,
    *,
    database_url: str | None = None,
    on_progress: ProgressCallback | None = None,
    on_running: Callable[[RunningCell], None] | None = None,
    scenario: Scenario | None = None,
) -> RaceResult:
    """Run every cell of ``experiment`` (a plan, an experiment, or the experiment file it names)
    and return the result. An experiment is planned here (`concord.race.plan.plan_run`); a plan
    was planned by the caller, once, and runs as it is.

    ``on_progress`` is called from the calling thread about ten times a second while a cell runs;
    ``on_running`` once per cell, with the running executor, right after the workers are released.
    ``scenario``, when given, is the object every cell runs instead of the one registered under
    ``experiment.scenario`` (calibrate races the counter on a row it shares with pgbench); a plan
    holds its scenario already.
    """
    from concord import __version__

    if isinstance(experiment, (str, Path)):
        experiment = load_experiment(experiment)
    plan = experiment if isinstance(experiment, RunPlan) else plan_run(experiment, scenario)
    experiment, scenario = plan.experiment, plan.scenario
    # Which loop ran it, for asyncio (a bad CONCORD_EVENT_LOOP stops the run here).
    parameters = {**experiment.parameters(), **event_loop_parameter((experiment.executor,))}
    url = race_url(database_url, scenario)
    engine = create_engine(url, poolclass=sa.NullPool)
    try:
        if scenario.needs_schema:  # a user's scenario brings its own tables: concord adds none
            ensure_schema(engine)
        dsn = libpq_dsn(url)
        with psycopg.connect(dsn, autocommit=True, application_name="concord race control") as control:
            ensure_capacity(control, max(experiment.workers))
            result = RaceResult(
                concord_version=__version__,
                started_at=datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
                database=describe_database(control),
                parameters=parameters,
            )
            waits = Waits.open(dsn, control.info.dbname) if experiment.waits else None
            if waits:
                flush_statistics(control)  # its statements so far count before the first cell
            try:
                run_cells(plan, result, engine, dsn, control, on_progress, on_running, waits)
            finally:
                if waits:
                    waits.close()
    except (DBAPIError, psycopg.Error) as exc:
        raise translate(exc) from exc
    finally:
        engine.dispose()
    return result


#: Where a user's scenario races on the embedded server: a database of its own, so the user's
#: tables never meet concord's (a user's `users` table in concord's own database would).
USER_DATABASE = "scenarios"


def race_url(database_url: str | None, scenario: Scenario) -> sa.URL:
    """The database a race runs in: the one given (or CONCORD_DATABASE_URL's); with neither,
    the embedded server's ``concord`` database, or for a user's scenario its ``scenarios``
    database, created on first use."""
    url = resolve_url(database_url)
    if scenario.needs_schema or database_url or config.database_url_from_env():
        return url
    with psycopg.connect(libpq_dsn(url), autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (USER_DATABASE,)).fetchone() is None:
            with contextlib.suppress(psycopg.errors.DuplicateDatabase):  # another run made it meanwhile
                conn.execute(f"CREATE DATABASE {USER_DATABASE}")
    return url.set(database=USER_DATABASE)


def run_cells(plan: RunPlan, result, engine, dsn, control, on_progress, on_running, waits) -> None:
    cells = plan.cells()
    for index, cell in enumerate(cells):
        runner = CellRunner(plan, cell, engine, dsn, control, waits)
        try:
            outcome = runner.run(index, len(cells), on_progress, on_running)
        except KeyboardInterrupt:
            result.interrupted = True
            return
        result.cells.append(outcome)
        if outcome.interrupted:
            result.interrupted = True
            return
        if outcome.worker_errors and _server_gone(control):
            result.error = f"the database went away during cell {index + 1}: {outcome.worker_errors[0]}"
            return


def _server_gone(control: psycopg.Connection) -> bool:
    try:
        control.execute("SELECT 1")
    except psycopg.Error:
        return True
    return False


def describe_database(control: psycopg.Connection) -> dict[str, Any]:
    """The server version and the settings that change what a race measures."""
    rows = control.execute(
        "SELECT name, setting || coalesce(unit, '') FROM pg_settings WHERE name = ANY(%s) ORDER BY name",
        (list(SETTINGS),),
    ).fetchall()
    version = control.execute("SHOW server_version").fetchone()
    return {"server_version": version[0] if version else None, "settings": dict(rows)}
