"""Running the catalogue: every selected test at every selected level, on the connected server."""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import psycopg

from concord.anomalies.catalogue import CATALOGUE, select
from concord.anomalies.levels import Level
from concord.anomalies.monitor import Monitor
from concord.anomalies.runner import run_cell
from concord.anomalies.script import AnomalyTest
from concord.anomalies.verdict import Cell, decide
from concord.db.urls import libpq_dsn, mask_url, resolve_url
from concord.errors import ConcordError, DatabaseUnavailable, InvalidInput

DEFAULT_STEP_TIMEOUT_S = 5.0


@dataclass
class SuiteResult:
    """The matrix of one run, with where and when it ran."""

    started_at: datetime
    seconds: float
    database: dict[str, Any]
    step_timeout: float
    cells: list[Cell] = field(default_factory=list)


def run_suite(
    database_url: str | None = None,
    *,
    only: Iterable[str] | None = None,
    isolations: Iterable[str | Level] | None = None,
    step_timeout: float = DEFAULT_STEP_TIMEOUT_S,
    on_cell: Callable[[Cell], None] | None = None,
    catalogue: Sequence[AnomalyTest] = CATALOGUE,
) -> SuiteResult:
    """Run the anomaly tests named in ``only`` (all by default) at each level in ``isolations``.

    Every test runs in a schema created for this run and dropped at its end, so nothing else in the
    database is touched. A cell that times out or fails unexpectedly becomes an ``error`` cell and
    the suite goes on; ``on_cell`` is called after each cell (for progress). ``catalogue`` is the
    list ``only`` selects from (the built-in one unless a caller brings its own scripts).

    Raises `InvalidInput` for an unknown anomaly or level, or a step timeout that is not positive,
    and `DatabaseUnavailable` when the server cannot be reached.
    """
    tests = select(only, catalogue=catalogue)
    levels = _levels(isolations)
    if not step_timeout > 0:
        raise InvalidInput(f"the step timeout must be positive, not {step_timeout}")
    url = resolve_url(database_url)
    dsn = libpq_dsn(url)
    schema = f"concord_anomalies_{uuid.uuid4().hex[:8]}"
    started_at, clock = datetime.now(UTC), time.perf_counter()
    with _connect(dsn, schema) as conn:
        monitor = Monitor(conn)
        database = {
            "server_version": conn.execute("SHOW server_version").fetchone()[0],  # type: ignore[index]  # SHOW answers one row
            "url": mask_url(url),
            "schema": schema,
        }
        result = SuiteResult(started_at, 0.0, database, step_timeout)
        _create_schema(conn, schema)
        try:
            for test in tests:
                for level in levels:
                    cell = decide(
                        run_cell(
                            test, level, dsn=dsn, schema=schema, monitor=monitor, step_timeout=step_timeout
                        )
                    )
                    result.cells.append(cell)
                    if on_cell is not None:
                        on_cell(cell)
        finally:
            with contextlib.suppress(psycopg.OperationalError):  # a server that went away keeps nothing
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    result.seconds = time.perf_counter() - clock
    return result


def planned_cells(only: Iterable[str] | None = None, isolations: Iterable[str | Level] | None = None) -> int:
    """How many cells `run_suite` would run for these filters (for a progress bar)."""
    return len(select(only)) * len(_levels(isolations))


def _levels(isolations: Iterable[str | Level] | None) -> list[Level]:
    chosen = {Level.parse(name) for name in isolations or ()}
    return [level for level in Level if level in chosen] if chosen else list(Level)


def _create_schema(conn: psycopg.Connection, schema: str) -> None:
    """Fail once, clearly, when the role may not create a schema, rather than in every cell."""
    try:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    except psycopg.Error as exc:
        raise ConcordError(
            f"cannot create the schema the anomaly tests run in: {exc.diag.message_primary}",
            sqlstate=exc.sqlstate,
        ) from exc


def _connect(dsn: str, schema: str) -> psycopg.Connection:
    try:
        return psycopg.connect(
            dsn,
            autocommit=True,
            connect_timeout=10,
            application_name=f"concord anomalies {schema} monitor",
            options=f"-c search_path={schema}",
        )
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailable(f"cannot reach the database: {str(exc).strip().splitlines()[0]}") from exc
