"""`claim-queue`: workers repeatedly claim the next unassigned task from one backlog.

A claim reads the first unassigned task (in position order) and assigns it to the worker. The
`skip_locked` strategy reads with ``FOR UPDATE SKIP LOCKED`` (the claim-next statement of
`concord.locking.skip_locked`), so concurrent claimers take different tasks. A worker stops when
the backlog is empty.

Invariant: no task claimed twice (two workers told "yours"), none lost (every assigned task was
reported by its claimer, and a drained backlog has no unassigned task left).
"""

from __future__ import annotations

from collections import Counter

import sqlalchemy as sa

from concord.locking import EntityKey, LockingStrategy
from concord.models import Task
from concord.race.program import EXHAUSTED, Fetch, Operation, Outcome, RowMissed, Sql, Status
from concord.race.scenarios.base import (
    Check,
    Fixture,
    Program,
    Scenario,
    Tally,
    backlog_assignees,
    backlog_fixture,
)

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


class ClaimProgram(Program):
    def __init__(self, strategy: LockingStrategy, fixture: Fixture) -> None:
        super().__init__(strategy, fixture)
        self.backlog = fixture.lists["backlog"]
        self.claim = Sql.of(strategy.read(next_unassigned()), Fetch.ROW)
        left = sa.select(
            sa.exists().where(TASKS.c.list_id == sa.bindparam("list_id"), TASKS.c.assignee_id.is_(None))
        )
        self.any_left = Sql.of(left, Fetch.SCALAR)
        update = (
            sa.update(TASKS)
            .where(TASKS.c.id == sa.bindparam("task_id"))
            .values(assignee_id=sa.bindparam("user_id"))
        )
        self.write = self.write_sql(update, TASKS.c.version)

    def operation(self, worker: int, seq: int) -> Operation:
        return self._claim(self.fixture.users[worker])

    def _claim(self, user_id: int) -> Operation:
        yield from self.guard(EntityKey("task_lists", self.backlog))
        row = yield self.claim, {"list_id": self.backlog}
        if row is None:
            # No row: the backlog is empty, or (SKIP LOCKED, or a FOR UPDATE whose row was taken
            # while it waited) every candidate was held. Only an empty backlog ends the worker.
            if (yield self.any_left, {"list_id": self.backlog}):
                raise RowMissed("every unassigned task was held by another claimer")
            return EXHAUSTED
        task_id, version = row
        written = yield self.write, self.write_params({"task_id": task_id, "user_id": user_id}, version)
        self.strategy.check_written(written, "task", task_id, version)
        return Outcome(Status.DONE, task_id)


class ClaimQueue(Scenario):
    name = "claim-queue"
    summary = "workers repeatedly claim the next unassigned task from a backlog"
    invariant = "no task claimed twice, none lost"
    default_strategies = ("none", "pessimistic", "skip_locked", "optimistic")

    def setup(self, conn: sa.Connection, workers: int, ops: int | None) -> Fixture:
        count = DEFAULT_TASKS if ops is None else max(1, ops)
        return backlog_fixture(conn, "claim-queue", "backlog", "claim me", count, workers)

    def program(self, strategy: LockingStrategy, fixture: Fixture) -> Program:
        return ClaimProgram(strategy, fixture)

    def check(self, conn: sa.Connection, fixture: Fixture, tally: Tally) -> Check:
        assignee = backlog_assignees(conn, fixture)
        dead_users = {fixture.users[w] for w in tally.dead_workers}
        claims = Counter(task_id for _, task_id in tally.payloads)
        twice = sum(n - 1 for n in claims.values() if n > 1)
        unreported = sum(
            1
            for task_id, user in assignee.items()
            if user is not None and task_id not in claims and user not in dead_users
        )
        drained = tally.exhausted_workers > 0
        left = sum(1 for user in assignee.values() if user is None)
        lost = unreported + (left if drained else 0)
        violations = twice + lost
        if left == 0:
            state = "backlog empty"
        else:
            state = f"{left:,} left unclaimed when the run ended" if not drained else f"{left:,} left behind"
        if violations:
            finding = (
                f"{twice:,} double claims: {len(claims):,} tasks handed out {claims.total():,} times, "
                f"{lost:,} lost ({state})"
            )
        else:
            finding = f"{len(claims):,} tasks claimed exactly once ({state})"
        details = {
            "tasks": len(assignee),
            "claimed": len(claims),
            "claimed_twice": twice,
            "lost": lost,
            "unclaimed": left,
            "drained": drained,
        }
        return Check(violations, finding, details)
