"""`counter`: every worker increments the same task's points by read-modify-write.

Invariant: the final value equals the number of committed increments; the difference is the
number of lost updates. The workers' side, the read-modify-write itself, is
`concord.race.scenarios.counter.program`.
"""

from __future__ import annotations

from typing import ClassVar

import sqlalchemy as sa

from concord.locking import LockingStrategy
from concord.models import Task
from concord.race.results import CellTotals
from concord.race.scenarios.counter.program import CounterProgram
from concord.race.scenarios.program import CompiledStrategy
from concord.race.scenarios.scenario import (
    Fixture,
    InvariantVerdict,
    Scenario,
    cell_tag,
    make_board,
    make_list,
    make_tasks,
    task_read,
    task_write,
)

TASKS = Task.__table__
#: ``Fixture.extra`` key: the counter's points when the cell started, for a row it did not create.
POINTS_BEFORE = "points_before"


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

    def program(self, strategy: LockingStrategy, fixture: Fixture) -> CounterProgram:
        return CounterProgram(
            CompiledStrategy.of(strategy),
            fixture,
            read=task_read(strategy, "points"),
            write=task_write(strategy, points="points"),
        )

    def check(self, conn: sa.Connection, fixture: Fixture, totals: CellTotals) -> InvariantVerdict:
        points = conn.execute(sa.select(TASKS.c.points).where(TASKS.c.id == fixture.tasks[0])).scalar_one()
        points -= fixture.extra.get(POINTS_BEFORE, 0)  # a row the race did not start at 0
        lost = max(0, totals.done - points)
        details = {"expected": totals.done, "actual": points, "lost_updates": lost}
        if points > totals.done:
            # Only possible when a worker died between its COMMIT and its report.
            details["unreported_increments"] = points - totals.done
        if lost:
            finding = f"lost {lost:,} of {totals.done:,} updates (counter at {points:,})"
        else:
            finding = f"counter at {points:,} after {totals.done:,} committed increments"
        return InvariantVerdict(lost, finding, details)
