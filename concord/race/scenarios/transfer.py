"""`transfer`: workers move tasks between two lists, locking both lists first.

Even-numbered workers move the head task of list A to list B, odd-numbered ones from B to A.
Each locks the source list, then the destination list (the order the move names them), so two
workers going opposite ways can each hold one list and wait for the other: a deadlock, which
PostgreSQL detects after ``deadlock_timeout`` (1 s by default) and breaks by aborting one of
them with 40P01. The `ordered` strategy locks both lists in ascending id order instead, which
makes the cycle impossible.

Invariant: every list holds its initial tasks plus the committed moves in minus the moves out
(a task moved twice by two workers that both read it shows up as a difference). The workers'
side is `concord.race.programs.transfer`.
"""

from __future__ import annotations

from typing import ClassVar

import sqlalchemy as sa

from concord.locking import LockingStrategy
from concord.models import Task, TaskList
from concord.race.program import Fetch, Sql
from concord.race.programs.base import Traits
from concord.race.programs.transfer import TransferProgram
from concord.race.scenarios.base import (
    Check,
    Fixture,
    Scenario,
    Tally,
    cell_tag,
    make_board,
    make_list,
    make_tasks,
    task_write,
)

TASKS = Task.__table__
LISTS = TaskList.__table__
TASKS_PER_LIST = 50


class Transfer(Scenario):
    name = "transfer"
    summary = "workers move tasks between two lists, locking them in opposite orders"
    invariant = "each list holds its initial tasks + moves in - moves out"
    refused: ClassVar[dict[str, str]] = {
        "skip_locked": "a move needs both lists; SKIP LOCKED would skip a held list instead of waiting "
        "for it; it is for queues (try claim-queue)",
    }
    default_strategies = ("none", "pessimistic", "ordered", "nowait", "optimistic")

    def setup(self, conn: sa.Connection, workers: int, ops: int | None) -> Fixture:
        tag = cell_tag()
        board = make_board(conn, f"race transfer {tag}")
        a = make_list(conn, board, "A", position=0)
        b = make_list(conn, board, "B", position=1)
        tasks = make_tasks(conn, a, TASKS_PER_LIST, "A") + make_tasks(conn, b, TASKS_PER_LIST, "B")
        return Fixture(board_id=board, workers=workers, lists={"a": a, "b": b}, tasks=tasks)

    def program(self, strategy: LockingStrategy, fixture: Fixture) -> TransferProgram:
        lock = sa.select(LISTS.c.id).where(LISTS.c.id == sa.bindparam("list_id"))
        head = (
            sa.select(TASKS.c.id, TASKS.c.version)
            .where(TASKS.c.list_id == sa.bindparam("list_id"))
            .order_by(TASKS.c.position, TASKS.c.id)
            .limit(sa.literal_column("1"))
        )
        return TransferProgram(
            Traits.of(strategy),
            fixture,
            lock_list=Sql.of(strategy.read(lock), Fetch.NOTHING) if strategy.locks else None,
            head=Sql.of(head, Fetch.ROW),
            write=task_write(strategy, list_id="list_id"),
        )

    def check(self, conn: sa.Connection, fixture: Fixture, tally: Tally) -> Check:
        a, b = fixture.lists["a"], fixture.lists["b"]
        held = dict(
            conn.execute(
                sa.select(TASKS.c.list_id, sa.func.count())
                .where(TASKS.c.list_id.in_([a, b]))
                .group_by(TASKS.c.list_id)
            ).all()
        )
        moved_out_of_a = sum(1 for _, (source, _) in tally.payloads if source == a)
        moved_into_a = len(tally.payloads) - moved_out_of_a
        expected_a = TASKS_PER_LIST + moved_into_a - moved_out_of_a
        actual_a = held.get(a, 0)
        violations = abs(actual_a - expected_a)
        if tally.dead_workers:
            violations = max(0, violations - len(tally.dead_workers))  # each may have died after COMMIT
        if violations:
            finding = f"{violations:,} moves lost: list A holds {actual_a:,}, the moves say {expected_a:,}"
        else:
            finding = (
                f"{len(tally.payloads):,} moves, lists hold {actual_a:,} + {held.get(b, 0):,} as expected"
            )
        details = {
            "moves": len(tally.payloads),
            "list_a": actual_a,
            "list_b": held.get(b, 0),
            "expected_list_a": expected_a,
        }
        return Check(violations, finding, details)
