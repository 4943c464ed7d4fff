"""Bulk-load realistic, skewed data so query plans mean something (`concord seed`).

    from concord.seed import SeedPlan, seed
    report = seed("postgresql://...", SeedPlan(tasks=100_000, seed=7))

Rows come from seeded draws (`concord.seed.draws`), go in through binary COPY in one transaction
(`concord.seed.load`, with the big tables' bytes built by numpy in `concord.seed.binary`), and
the tables are analyzed in it. A database that
already holds data is refused unless the caller asks to append to it or to reset it first.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

import psycopg
import sqlalchemy as sa
from sqlalchemy import URL

from concord.db import migrate
from concord.db.engine import create_engine
from concord.db.urls import libpq_dsn, resolve_url
from concord.errors import InvalidInput, LockNotAvailable, translate
from concord.seed import load, space
from concord.seed.generate import IdBase, Rows, SeedPlan
from concord.seed.progress import Progress, Step, Watch, ignore
from concord.seed.space import NotEnoughSpace, Space

__all__ = [
    "DatabaseNotEmpty",
    "ExistingData",
    "NotEnoughSpace",
    "Progress",
    "SeedPlan",
    "SeedReport",
    "Space",
    "Step",
    "seed",
]


class ExistingData(StrEnum):
    """What to do when the database already holds boards, tasks or users."""

    REFUSE = "refuse"
    APPEND = "append"
    RESET = "reset"


class DatabaseNotEmpty(InvalidInput):
    """Seeding was refused because the database already holds data."""


@dataclass(frozen=True)
class SeedReport:
    """What was loaded and how fast."""

    rows: dict[str, int]
    fresh: bool
    seconds: float
    phases: dict[str, float] = field(default_factory=dict)
    estimated_bytes: int = 0  # what `concord.seed.space` said the rows and indexes would take
    bytes: int = 0  # what the five tables and their indexes take after the load

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    @property
    def rows_per_second(self) -> float:
        return self.total_rows / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict:
        return {
            "rows": self.rows,
            "total_rows": self.total_rows,
            "fresh_load": self.fresh,
            "seconds": round(self.seconds, 3),
            "rows_per_second": round(self.rows_per_second),
            "phases": {name: round(value, 3) for name, value in self.phases.items()},
            "estimated_bytes": self.estimated_bytes,
            "bytes": self.bytes,
        }


def seed(
    database_url: str | URL | None,
    plan: SeedPlan,
    *,
    existing: ExistingData = ExistingData.REFUSE,
    progress: Progress | None = None,
    announce: Callable[[Space], None] | None = None,
) -> SeedReport:
    """Load ``plan``'s rows into the database (migrating a fresh one first) and ANALYZE it.

    Before loading, ``announce`` is told how much space the seed takes (`NotEnoughSpace` when the
    server's disk is known to be too small). ``progress`` hears a `Step` whenever the seed moves
    on, and a few times a second inside a long index build or ANALYZE."""
    _check(plan)
    url = resolve_url(
        database_url.render_as_string(hide_password=False) if isinstance(database_url, URL) else database_url
    )
    _ensure_schema(url)
    dsn = libpq_dsn(url)
    clock = _Clock()
    try:
        with psycopg.connect(dsn) as conn, Watch(dsn, conn.info.backend_pid, progress or ignore) as watch:
            announced: list[Space] = []
            fresh = _load(conn, plan, existing, watch, clock, lambda s: _tell(s, announced, announce))
            conn.commit()
            clock.lap("commit")  # flushing what is left of the write-ahead log
            if not fresh:
                conn.autocommit = True
                load.analyze(conn, watch, vacuum=True)
                clock.lap("analyze")
            stored = load.size(conn)
    except psycopg.errors.LockNotAvailable as exc:
        raise LockNotAvailable(
            f"gave up after {load.LOCK_TIMEOUT} waiting for a lock another transaction "
            "holds on a concord table; nothing was loaded: try again when it ends"
        ) from exc
    except psycopg.Error as exc:
        raise translate(exc) from exc
    return SeedReport(
        rows=plan.row_counts(),
        fresh=fresh,
        seconds=clock.total(),
        phases=clock.phases(),
        estimated_bytes=announced[0].rows,
        bytes=stored,
    )


def _tell(space: Space, announced: list[Space], announce: Callable[[Space], None] | None) -> None:
    announced.append(space)
    if announce is not None:
        announce(space)


def plan_total(plan: SeedPlan) -> int:
    """How many rows the plan loads in all tables."""
    return plan.total_rows()


class _Clock:
    """Seconds spent in each phase, from the first `lap` on."""

    def __init__(self) -> None:
        self.started = self.last = time.perf_counter()
        self.laps = dict.fromkeys(("copy", "analyze", "indexes", "keys", "commit"), 0.0)

    def restart(self) -> None:
        self.started = self.last = time.perf_counter()

    def lap(self, phase: str) -> None:
        now = time.perf_counter()
        self.laps[phase] += now - self.last
        self.last = now

    def total(self) -> float:
        return self.last - self.started

    def phases(self) -> dict[str, float]:
        # indexes_and_keys: the one figure for both that earlier reports had; kept for readers of them.
        return {**self.laps, "indexes_and_keys": self.laps["indexes"] + self.laps["keys"]}


def _load(
    conn: psycopg.Connection,
    plan: SeedPlan,
    existing: ExistingData,
    watch: Watch,
    clock: _Clock,
    announce: Callable[[Space], None],
) -> bool:
    """Copy the rows in the open transaction (the caller commits); True for a fresh load.

    A fresh load is analyzed in the transaction, before its indexes and keys come back: nothing
    else needs the statistics earlier, and the commit publishes them with the rows."""
    needed = space.measure(conn, plan)  # before taking any lock: a refusal should not wait
    if not needed.enough:
        raise NotEnoughSpace(
            f"seeding {plan.tasks:,} tasks takes {needed.describe()}: free some space or seed fewer tasks"
        )
    load.begin(conn)
    empty = load.is_empty(conn)
    if not empty and existing is ExistingData.REFUSE:
        raise DatabaseNotEmpty(
            "the database already holds data: pass --append to add to it or --reset to replace it"
        )
    fresh = empty or existing is ExistingData.RESET
    announce(needed)
    clock.restart()  # the rows per second count from here
    if fresh:
        load.truncate(conn)  # also what makes COPY ... FREEZE legal in this transaction
        keys_and_indexes, foreign_keys = load.drop_for_load(conn)
    rows = Rows(plan, IdBase() if fresh else load.id_base(conn))
    copied = 0
    for table in load.TABLES:
        copied = load.copy_table(conn, rows, table, freeze=fresh, watch=watch, copied=copied)
    clock.lap("copy")
    if fresh:
        load.analyze(conn, watch, vacuum=False)
        clock.lap("analyze")
        load.recreate(conn, keys_and_indexes, "indexes", watch)
        clock.lap("indexes")
        load.prefer_merge_joins(conn)
        load.recreate(conn, foreign_keys, "keys", watch)
    load.set_sequences(conn)
    clock.lap("keys")
    return fresh


def _check(plan: SeedPlan) -> None:
    for name in ("boards", "lists_per_board", "tasks", "users", "seed"):
        if getattr(plan, name) < 0:
            raise InvalidInput(f"--{name.replace('_', '-')} must be 0 or more, not {getattr(plan, name)}")
    if plan.tasks and not plan.lists:
        raise InvalidInput("tasks need lists to go in: give --boards and --lists-per-board above 0")


def _ensure_schema(url: URL) -> None:
    engine = create_engine(url, poolclass=sa.NullPool)
    try:
        migrate.ensure_schema(engine)
    except sa.exc.DBAPIError as exc:
        raise translate(exc) from exc
    finally:
        engine.dispose()
