"""`counter`: every worker increments the same task's points by read-modify-write.

Invariant: the final value equals the number of committed increments; the difference is the
number of lost updates.
"""

from __future__ import annotations

from typing import ClassVar

import sqlalchemy as sa

from concord.locking import EntityKey, LockingStrategy
from concord.models import Task
from concord.race.program import DONE, Fetch, Operation, Sql
from concord.race.scenarios.base import (
    Check,
    Fixture,
    Program,
    Scenario,
    Tally,
    cell_tag,
    make_board,
    make_list,
    make_tasks,
)

TASKS = Task.__table__


class CounterProgram(Program):
    def __init__(self, strategy: LockingStrategy, fixture: Fixture) -> None:
        super().__init__(strategy, fixture)
        self.task_id = fixture.tasks[0]
        self.key = EntityKey("tasks", self.task_id)
        read = sa.select(TASKS.c.points, TASKS.c.version).where(TASKS.c.id == sa.bindparam("task_id"))
        self.read = Sql.of(strategy.read(read), Fetch.ROW)
        update = (
            sa.update(TASKS)
            .where(TASKS.c.id == sa.bindparam("task_id"))
            .values(points=sa.bindparam("points"))
        )
        self.write = self.write_sql(update, TASKS.c.version)

    def operation(self, worker: int, seq: int) -> Operation:
        yield from self.guard(self.key)
        points, version = yield self.read, {"task_id": self.task_id}
        # The change happens in Python, between the read and the write: the window a lost
        # update slips through when nothing protects it.
        written = yield (
            self.write,
            self.write_params({"task_id": self.task_id, "points": points + 1}, version),
        )
        self.strategy.check_written(written, "task", self.task_id, version)
        return DONE


class Counter(Scenario):
    name = "counter"
    summary = "every worker increments one task's points by read-modify-write"
    invariant = "final points == committed increments (the difference is lost updates)"
    refused: ClassVar[dict[str, str]] = {
        "skip_locked": "SKIP LOCKED would skip the one counter row while another worker holds it, "
        "so increments would silently do nothing; it is for queues (try claim-queue)",
    }
    default_strategies = ("none", "pessimistic", "optimistic", "advisory")

    def setup(self, conn: sa.Connection, workers: int, ops: int | None) -> Fixture:
        tag = cell_tag()
        board = make_board(conn, f"race counter {tag}")
        backlog = make_list(conn, board, "counter")
        return Fixture(
            board_id=board,
            workers=workers,
            lists={"counter": backlog},
            tasks=make_tasks(conn, backlog, 1, "counter"),
        )

    def program(self, strategy: LockingStrategy, fixture: Fixture) -> Program:
        return CounterProgram(strategy, fixture)

    def check(self, conn: sa.Connection, fixture: Fixture, tally: Tally) -> Check:
        points = conn.execute(sa.select(TASKS.c.points).where(TASKS.c.id == fixture.tasks[0])).scalar_one()
        lost = max(0, tally.done - points)
        details = {"expected": tally.done, "actual": points, "lost_updates": lost}
        if points > tally.done:
            # Only possible when a worker died between its COMMIT and its report.
            details["unreported_increments"] = points - tally.done
        if lost:
            finding = f"lost {lost:,} of {tally.done:,} updates (counter at {points:,})"
        else:
            finding = f"counter at {points:,} after {tally.done:,} committed increments"
        return Check(lost, finding, details)
