"""`wip-limit`: workers move tasks into a list with a WIP limit after counting what is there.

Each round has a target list of its own with ``wip_limit = 2``; in round r every worker tries to
move its own task into list r. A worker reads the list's limit, counts the list's tasks, and
moves its task only if the count is below the limit. No two workers write the same row, so
row-level conflict detection has nothing to catch: this is write skew. REPEATABLE READ does not
prevent it; SERIALIZABLE does (SSI sees the read-write dependency cycle), and so does locking
the list row or an advisory lock on the list at READ COMMITTED. At REPEATABLE READ a lock does
not help: the snapshot the count reads was taken by the locking statement itself, before the
lock was granted, so the count misses the previous holder's move.

Invariant: no list holds more tasks than its limit. The workers' side is
`concord.race.scenarios.wip_limit.program`.
"""

from __future__ import annotations

from typing import ClassVar

import sqlalchemy as sa

from concord.locking import LockingStrategy
from concord.models import Task, TaskList
from concord.nouns import count
from concord.race.results import CellTotals
from concord.race.scenarios.program import CompiledStrategy
from concord.race.scenarios.scenario import (
    Fixture,
    InvariantVerdict,
    Scenario,
    cell_tag,
    make_board,
    make_list,
    make_lists,
    make_tasks,
)
from concord.race.scenarios.wip_limit.program import WipLimitProgram
from concord.race.steps import Fetch, Sql

TASKS = Task.__table__
LISTS = TaskList.__table__
WIP_LIMIT = 2
DEFAULT_ROUNDS = 300


class WipLimit(Scenario):
    name = "wip-limit"
    summary = "workers move tasks into a WIP-limited list after counting what is there (write skew)"
    invariant = f"no list holds more tasks than its WIP limit ({WIP_LIMIT})"
    refused: ClassVar[dict[str, str]] = {
        "optimistic": "each worker writes a different task and only reads the list, so no version it "
        "compares ever changes: a version check cannot see write skew (and lists carry no version)",
        "skip_locked": "SKIP LOCKED would skip the target list while another worker holds it instead of "
        "waiting for its count; it is for queues (try claim-queue)",
    }
    default_strategies = ("none", "pessimistic", "advisory")
    default_isolations = ("read committed", "repeatable read", "serializable")

    def setup(self, conn: sa.Connection, workers: int, ops: int | None) -> Fixture:
        tag = cell_tag()
        rounds = DEFAULT_ROUNDS if ops is None else max(1, -(-ops // workers))
        board = make_board(conn, f"race wip-limit {tag}")
        backlog = make_list(conn, board, "backlog")
        targets = make_lists(conn, board, "doing", rounds, wip_limit=WIP_LIMIT)
        # Task of worker w for round r: tasks[r * workers + w]. Nobody writes anyone else's task.
        tasks = make_tasks(conn, backlog, rounds * workers, "move me")
        return Fixture(
            board_id=board,
            workers=workers,
            lists={"backlog": backlog},
            tasks=tasks,
            extra={"targets": targets},
        )

    def program(self, strategy: LockingStrategy, fixture: Fixture) -> WipLimitProgram:
        limit = sa.select(LISTS.c.wip_limit).where(LISTS.c.id == sa.bindparam("list_id"))
        count = (
            sa.select(sa.func.count()).select_from(TASKS).where(TASKS.c.list_id == sa.bindparam("list_id"))
        )
        move = (
            sa.update(TASKS)
            .where(TASKS.c.id == sa.bindparam("task_id"))
            .values(list_id=sa.bindparam("list_id"), version=TASKS.c.version + sa.literal_column("1"))
        )
        return WipLimitProgram(
            CompiledStrategy.of(strategy),
            fixture,
            read_limit=Sql.of(strategy.read(limit), Fetch.SCALAR),
            count=Sql.of(count, Fetch.SCALAR),
            move=Sql.of(move, Fetch.ROWCOUNT),
        )

    def check(self, conn: sa.Connection, fixture: Fixture, totals: CellTotals) -> InvariantVerdict:
        counts = conn.execute(
            sa.select(LISTS.c.wip_limit, sa.func.count(TASKS.c.id))
            .select_from(LISTS.outerjoin(TASKS, TASKS.c.list_id == LISTS.c.id))
            .where(LISTS.c.id.in_(fixture.extra["targets"]))
            .group_by(LISTS.c.id)
        ).all()
        over = [held - limit for limit, held in counts if held > limit]
        excess = sum(over)
        if excess:
            finding = (
                f"write skew: {len(over):,} of {len(counts):,} lists over their limit of {WIP_LIMIT}, "
                f"{count(excess, 'task')} too many"
            )
        else:
            finding = (
                f"{count(len(counts), 'list')}, none over its limit of {WIP_LIMIT}; "
                f"{count(totals.declined, 'move')} refused"
            )
        details = {
            "lists": len(counts),
            "lists_over_limit": len(over),
            "tasks_over_limit": excess,
            "moves": totals.done,
            "refused_moves": totals.declined,
        }
        return InvariantVerdict(excess, finding, details)
