"""`assign`: workers race to assign each unassigned task to themselves.

The tasks are raced in order: every worker tries task 0, then task 1, and so on, so each task
has all the workers contending for it. Invariant: each task has exactly one winner (a worker
told "assigned to you"), every other worker was told it lost, and the winner is the assignee
the database shows. The workers' side is `concord.race.scenarios.assign.program`.
"""

from __future__ import annotations

from collections import Counter
from typing import ClassVar

import sqlalchemy as sa

from concord.locking import LockingStrategy
from concord.models import Task
from concord.nouns import count
from concord.race.results import CellTotals
from concord.race.scenarios.assign.program import AssignProgram
from concord.race.scenarios.program import CompiledStrategy
from concord.race.scenarios.scenario import (
    Fixture,
    InvariantVerdict,
    Scenario,
    backlog_assignees,
    backlog_fixture,
    task_read,
    task_write,
)

TASKS = Task.__table__
DEFAULT_TASKS = 2000


class Assign(Scenario):
    name = "assign"
    summary = "workers race to assign each unassigned task to themselves"
    invariant = "each task has exactly one winner, the assignee in the database; every loser is told so"
    refused: ClassVar[dict[str, str]] = {
        "skip_locked": "SKIP LOCKED skips the named task while someone holds it, so the loser cannot "
        "know whether it was taken; it is for claiming any free row (try claim-queue)",
    }
    default_strategies = ("none", "pessimistic", "nowait", "optimistic", "advisory")

    def setup(self, conn: sa.Connection, workers: int, ops: int | None) -> Fixture:
        count = DEFAULT_TASKS if ops is None else max(1, -(-ops // workers))
        return backlog_fixture(conn, "assign", "unassigned", "assign me", count, workers)

    def program(self, strategy: LockingStrategy, fixture: Fixture) -> AssignProgram:
        return AssignProgram(
            CompiledStrategy.of(strategy),
            fixture,
            read=task_read(strategy, "assignee_id"),
            write=task_write(strategy, assignee_id="user_id"),
        )

    def check(self, conn: sa.Connection, fixture: Fixture, totals: CellTotals) -> InvariantVerdict:
        assignee = backlog_assignees(conn, fixture)
        user_of = dict(enumerate(fixture.users))
        dead_users = {user_of[w] for w in totals.dead_workers}
        winners: dict[int, list[int]] = {}
        for worker, task_id in totals.payloads:
            winners.setdefault(task_id, []).append(user_of[worker])
        extra_winners = sum(len(users) - 1 for users in winners.values())
        wrong = sum(1 for task_id, users in winners.items() if assignee[task_id] not in users)
        silent = sum(
            1
            for task_id, user in assignee.items()
            if user is not None and task_id not in winners and user not in dead_users
        )
        violations = extra_winners + wrong + silent
        tasks_won = len(winners)
        doubled = Counter(len(users) for users in winners.values() if len(users) > 1)
        if violations:
            finding = (
                f"{extra_winners:,} extra winners told 'yours' on {sum(doubled.values()):,} "
                f"of {tasks_won:,} tasks"
                + (f"; {wrong + silent:,} assignees disagree" if wrong + silent else "")
            )
        else:
            finding = (
                f"{count(tasks_won, 'task')}, one winner each; {count(totals.declined, 'loser')} told so"
            )
        details = {
            "tasks_raced": tasks_won,
            "extra_winners": extra_winners,
            "assignee_mismatches": wrong + silent,
            "losers_told": totals.declined,
        }
        return InvariantVerdict(violations, finding, details)
