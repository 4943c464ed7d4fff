"""What every scenario provides: fixture rows, an operation per worker, and an invariant.

A scenario is used in three steps for each cell of a matrix:

1. `Scenario.setup` creates the cell's own rows (a board of its own, lists, tasks, users) in the
   target database and returns a picklable `Fixture`; cells never share rows.
2. `Scenario.program` compiles the statements for one locking strategy into a picklable
   `Program` (the scenario's ``program`` module), whose ``operation(worker, seq)`` is the generator each
   worker runs (see `concord.race.steps`); None means the worker has nothing left to do.
3. `Scenario.check` reads the database after the run and compares it with what the workers
   reported: the number of invariant breaches and a plain-language account.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import sqlalchemy as sa

from concord.errors import ConcordError, InvalidInput
from concord.locking import LockingStrategy
from concord.models import Board, Task, TaskList, User
from concord.race.results import CellTotals
from concord.race.scenarios.program import Fixture, Program
from concord.race.steps import Fetch, Sql


@dataclass(frozen=True)
class InvariantVerdict:
    """The invariant's verdict: breaches (0 when it held, None when not checked) and what was
    found; ``error`` when the cell itself failed (a user scenario's code raised)."""

    violations: int | None
    finding: str
    details: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


class CellRefused(ConcordError):
    """A cell that cannot run (a user scenario's setup failed): recorded, and the run goes on."""


class BrokenContract(InvalidInput):
    """A user scenario did not keep its contract (``check`` returned no list): the run stops, exit 2."""


def task_read(strategy: LockingStrategy, column: str) -> Sql:
    """``SELECT column, version FROM tasks WHERE id = :task_id``, as the strategy reads (``FOR
    UPDATE``, ``NOWAIT``...): the first half of a read-modify-write of one task."""
    tasks = Task.__table__
    read = sa.select(tasks.c[column], tasks.c.version).where(tasks.c.id == sa.bindparam("task_id"))
    return Sql.of(strategy.read(read), Fetch.ROW)


def task_write(strategy: LockingStrategy, **columns: str) -> Sql:
    """``UPDATE tasks SET column = :param, ... WHERE id = :task_id`` that bumps the version, as a
    compare-and-set when the strategy wants one; ``columns`` maps each column to its parameter.

    When the strategy compares versions, its step is sent the row count: a count of 0 is a stale
    compare-and-set (`Program.check_written`), which fails the attempt, so COMMIT waits for the
    operation. Otherwise nothing can fail after it: its step is sent nothing (no row count
    parsed inside the locked section) and it is ``final`` (`Sql.final`), committed as soon as
    its answer is in. It is the last statement of every operation that writes a task this way."""
    tasks = Task.__table__
    update = (
        sa.update(tasks)
        .where(tasks.c.id == sa.bindparam("task_id"))
        .values({column: sa.bindparam(param) for column, param in columns.items()})
        .values(version=tasks.c.version + sa.literal_column("1"))
    )
    write = strategy.write(update, tasks.c.version)
    if strategy.compares_version:
        return Sql.of(write, Fetch.ROWCOUNT)
    return Sql.of(write, Fetch.NOTHING, final=True)


class Scenario:
    """A race with an invariant. Subclasses fill the class attributes and the three steps."""

    name: ClassVar[str]
    summary: ClassVar[str]
    invariant: ClassVar[str]
    #: strategy name -> why it makes no sense here
    refused: ClassVar[dict[str, str]] = {}
    default_strategies: ClassVar[tuple[str, ...]] = ("none", "pessimistic", "optimistic", "advisory")
    default_isolations: ClassVar[tuple[str, ...]] = ("read committed",)
    #: Where the scenario came from when it is not built in (``path/file.py:NAME``,
    #: ``package.module:NAME`` or an entry point's name); None for concord's own.
    source: str | None = None
    #: Whether its rows live in concord's schema (migrated before the race); a user's scenario
    #: creates its own tables and concord's are not added to the user's database.
    needs_schema: ClassVar[bool] = True

    def executor_refusal(self, executor: str) -> str | None:
        """Why the scenario cannot run on ``executor``, or None when it can."""
        return None

    def refusal(self, strategy: LockingStrategy) -> str | None:
        """Why ``strategy`` cannot run this scenario, or None when it can."""
        reason = self.refused.get(strategy.name)
        return f"{strategy.name} makes no sense for {self.name}: {reason}" if reason else None

    def setup(self, conn: sa.Connection, workers: int, ops: int | None) -> Fixture:
        raise NotImplementedError

    def program(self, strategy: LockingStrategy, fixture: Fixture) -> Program:
        raise NotImplementedError

    def check(self, conn: sa.Connection, fixture: Fixture, totals: CellTotals) -> InvariantVerdict:
        raise NotImplementedError

    def teardown(self, conn: sa.Connection, fixture: Fixture) -> None:
        """Delete the cell's rows (the board cascades to its lists and tasks; then the racers)."""
        conn.execute(sa.delete(Board).where(Board.id == fixture.board_id))
        if fixture.users:
            conn.execute(sa.delete(User).where(User.id.in_(fixture.users)))


# Fixture building blocks: every cell gets rows of its own under a board of its own.


def cell_tag() -> str:
    return uuid.uuid4().hex[:8]


def make_board(conn: sa.Connection, name: str) -> int:
    return conn.execute(sa.insert(Board).values(name=name).returning(Board.id)).scalar_one()


def make_list(
    conn: sa.Connection, board_id: int, name: str, *, position: int = 0, wip_limit: int | None = None
) -> int:
    statement = sa.insert(TaskList).values(
        board_id=board_id, name=name, position=position, wip_limit=wip_limit
    )
    return conn.execute(statement.returning(TaskList.id)).scalar_one()


def make_lists(
    conn: sa.Connection, board_id: int, prefix: str, count: int, *, wip_limit: int | None
) -> list[int]:
    rows = [
        {"board_id": board_id, "name": f"{prefix} {i}", "position": i + 1, "wip_limit": wip_limit}
        for i in range(count)
    ]
    return list(
        conn.execute(sa.insert(TaskList).returning(TaskList.id, sort_by_parameter_order=True), rows).scalars()
    )


def make_tasks(conn: sa.Connection, list_id: int, count: int, title: str = "task") -> list[int]:
    """``count`` tasks at positions 0..count-1, ids returned in position order."""
    statement = sa.text(
        "INSERT INTO tasks (list_id, title, position) "
        "SELECT :list_id, :title || ' ' || n, n FROM generate_series(0, :count - 1) AS n "
        "RETURNING id, position"
    )
    rows = conn.execute(statement, {"list_id": list_id, "title": title, "count": count}).all()
    return [task_id for task_id, _ in sorted(rows, key=lambda r: r[1])]


def make_users(conn: sa.Connection, tag: str, count: int) -> list[int]:
    rows = [{"name": f"racer {tag} {i}"} for i in range(count)]
    return list(
        conn.execute(sa.insert(User).returning(User.id, sort_by_parameter_order=True), rows).scalars()
    )


def task_columns(*names: str) -> Sequence[sa.ColumnElement[Any]]:
    return [Task.__table__.c[n] for n in names]


def backlog_fixture(
    conn: sa.Connection, scenario: str, list_name: str, title: str, tasks: int, workers: int
) -> Fixture:
    """A board with one backlog list of ``tasks`` unassigned tasks, and a user per worker."""
    tag = cell_tag()
    board = make_board(conn, f"race {scenario} {tag}")
    backlog = make_list(conn, board, list_name)
    return Fixture(
        board_id=board,
        workers=workers,
        lists={"backlog": backlog},
        tasks=make_tasks(conn, backlog, tasks, title),
        users=make_users(conn, tag, workers),
    )


def backlog_assignees(conn: sa.Connection, fixture: Fixture) -> dict[int, int | None]:
    """Each backlog task's assignee, as the database holds it after the run."""
    tasks = Task.__table__
    rows = conn.execute(
        sa.select(tasks.c.id, tasks.c.assignee_id).where(tasks.c.list_id == fixture.lists["backlog"])
    )
    return dict(rows.all())
