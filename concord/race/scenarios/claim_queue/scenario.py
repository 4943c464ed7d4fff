"""`claim-queue`: workers repeatedly claim the next unassigned task from one backlog.

A claim reads the first unassigned task (in position order) and assigns it to the worker. The
`skip_locked` strategy reads with ``FOR UPDATE SKIP LOCKED`` (the claim-next statement of
`concord.locking.skip_locked`), so concurrent claimers take different tasks. A worker stops when
the backlog is empty; that last transaction, which found nothing to claim, is not an operation:
it counts as no attempt, commit or latency sample.

Invariant: no task claimed twice (two workers told "yours"), none lost (every assigned task was
reported by its claimer, and a drained backlog has no unassigned task left). The workers' side
is `concord.race.scenarios.claim_queue.program`.
"""

from __future__ import annotations

from collections import Counter

import sqlalchemy as sa

from concord.locking import LockingStrategy
from concord.models import Task
from concord.nouns import count
from concord.race.results import CellTotals
from concord.race.scenarios.claim_queue.program import ClaimProgram
from concord.race.scenarios.program import CompiledStrategy
from concord.race.scenarios.scenario import (
    Fixture,
    InvariantVerdict,
    Scenario,
    backlog_assignees,
    backlog_fixture,
    task_write,
)
from concord.race.steps import Fetch, Sql

TASKS = Task.__table__
DEFAULT_TASKS = 3000


def next_unassigned() -> sa.Select:
    """The head of the backlog, before any locking clause is added."""
    return (
        sa.select(TASKS.c.id, TASKS.c.version)
        .where(TASKS.c.list_id == sa.bindparam("list_id"), TASKS.c.assignee_id.is_(None))
        .order_by(TASKS.c.position, TASKS.c.id)
        .limit(sa.literal_column("1"))
    )


class ClaimQueue(Scenario):
    name = "claim-queue"
    summary = "workers repeatedly claim the next unassigned task from a backlog"
    invariant = "no task claimed twice, none lost"
    default_strategies = ("none", "pessimistic", "skip_locked", "optimistic")

    def setup(self, conn: sa.Connection, workers: int, ops: int | None) -> Fixture:
        count = DEFAULT_TASKS if ops is None else max(1, ops)
        return backlog_fixture(conn, "claim-queue", "backlog", "claim me", count, workers)

    def program(self, strategy: LockingStrategy, fixture: Fixture) -> ClaimProgram:
        left = sa.select(
            sa.exists().where(TASKS.c.list_id == sa.bindparam("list_id"), TASKS.c.assignee_id.is_(None))
        )
        return ClaimProgram(
            CompiledStrategy.of(strategy),
            fixture,
            claim=Sql.of(strategy.read(next_unassigned()), Fetch.ROW),
            any_left=Sql.of(left, Fetch.SCALAR),
            write=task_write(strategy, assignee_id="user_id"),
        )

    def check(self, conn: sa.Connection, fixture: Fixture, totals: CellTotals) -> InvariantVerdict:
        assignee = backlog_assignees(conn, fixture)
        dead_users = {fixture.users[w] for w in totals.dead_workers}
        claims = Counter(task_id for _, task_id in totals.payloads)
        twice = sum(n - 1 for n in claims.values() if n > 1)
        unreported = sum(
            1
            for task_id, user in assignee.items()
            if user is not None and task_id not in claims and user not in dead_users
        )
        drained = totals.exhausted_workers > 0
        left = sum(1 for user in assignee.values() if user is None)
        lost = unreported + (left if drained else 0)
        violations = twice + lost
        if left == 0:
            state = "backlog empty"
        else:
            state = f"{left:,} left unclaimed when the run ended" if not drained else f"{left:,} left behind"
        if violations:
            finding = (
                f"{count(twice, 'double claim')}: {count(len(claims), 'task')} handed out "
                f"{count(claims.total(), 'time')}, "
                f"{lost:,} lost ({state})"
            )
        else:
            finding = f"{count(len(claims), 'task')} claimed exactly once ({state})"
        details = {
            "tasks": len(assignee),
            "claimed": len(claims),
            "claimed_twice": twice,
            "lost": lost,
            "unclaimed": left,
            "drained": drained,
        }
        return InvariantVerdict(violations, finding, details)
