"""`transfer`: workers move tasks between two lists, locking both lists first.

Even-numbered workers move the head task of list A to list B, odd-numbered ones from B to A.
Each locks the source list, then the destination list (the order the move names them), so two
workers going opposite ways can each hold one list and wait for the other: a deadlock, which
PostgreSQL detects after ``deadlock_timeout`` (1 s by default) and breaks by aborting one of
them with 40P01. The `ordered` strategy locks both lists in ascending id order instead, which
makes the cycle impossible.

Invariant: every committed move moves its task. Without locking, two workers can read the same
head task and both move it: the second move finds the task already in its target list and moves
nothing. Each move's write reports the list its task was in at the moment of the write
(`move_write`), so the check counts exactly those moves, whichever directions they went (counting
only the lists' net sizes let lost moves in opposite directions cancel out). The lists' final
sizes must also match the moves that did move something; a mismatch is reported too. The
workers' side is `concord.race.scenarios.transfer.program`.
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
    make_tasks,
)
from concord.race.scenarios.transfer.program import TransferProgram
from concord.race.steps import Fetch, Sql

TASKS = Task.__table__
LISTS = TaskList.__table__
TASKS_PER_LIST = 50


class Transfer(Scenario):
    name = "transfer"
    summary = "workers move tasks between two lists, locking them in opposite orders"
    invariant = (
        "every committed move moves its task; each list holds its initial tasks + moves in - moves out"
    )
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
            CompiledStrategy.of(strategy),
            fixture,
            lock_list=Sql.of(strategy.read(lock), Fetch.NOTHING) if strategy.locks else None,
            head=Sql.of(head, Fetch.ROW),
            write=Sql.of(move_write(strategy), Fetch.SCALAR),
        )

    def check(self, conn: sa.Connection, fixture: Fixture, totals: CellTotals) -> InvariantVerdict:
        a, b = fixture.lists["a"], fixture.lists["b"]
        held: dict[int, int] = dict(
            conn.execute(
                sa.select(TASKS.c.list_id, sa.func.count())
                .where(TASKS.c.list_id.in_([a, b]))
                .group_by(TASKS.c.list_id)
            ).all()
        )
        moves = [move for _, move in totals.payloads]
        lost = sum(1 for _, target, prior in moves if prior == target)
        into_a = sum(1 for _, target, prior in moves if prior != target and target == a)
        out_of_a = sum(1 for _, target, prior in moves if prior != target and target == b)
        expected_a, actual_a, actual_b = TASKS_PER_LIST + into_a - out_of_a, held.get(a, 0), held.get(b, 0)
        unaccounted = abs(actual_a - expected_a)
        if totals.dead_workers:
            unaccounted = max(0, unaccounted - len(totals.dead_workers))  # each may have died after COMMIT
        details = {
            "moves": len(moves),
            "lost_moves": lost,
            "list_a": actual_a,
            "list_b": actual_b,
            "expected_list_a": expected_a,
        }
        return InvariantVerdict(
            lost + unaccounted,
            _finding(len(moves), lost, unaccounted, actual_a, actual_b, expected_a),
            details,
        )


def move_write(strategy: LockingStrategy) -> sa.Update:
    """Move task ``:task_id`` to list ``:list_id``, returning the list it was in when written.

    ``prior`` takes the row lock the UPDATE takes anyway (FOR NO KEY UPDATE), first: in read
    committed it waits for a concurrent writer and then reads the row's latest committed version,
    and since it holds the lock from then on, the list it returns is the one the UPDATE replaces.
    (``RETURNING old.list_id`` would say the same, but only from PostgreSQL 18.) MATERIALIZED keeps
    the locking read a step of its own rather than a subquery folded into the UPDATE's join.
    No row comes back when the strategy's compare-and-set finds the version changed.
    """
    prior = (
        sa.select(TASKS.c.id, TASKS.c.list_id)
        .where(TASKS.c.id == sa.bindparam("task_id"))
        .with_for_update(key_share=True)  # FOR NO KEY UPDATE: the UPDATE's own lock mode
        .cte("prior")
        .prefix_with("MATERIALIZED")
    )
    update = (
        sa.update(TASKS)
        .where(TASKS.c.id == prior.c.id)
        .values(list_id=sa.bindparam("list_id"), version=TASKS.c.version + sa.literal_column("1"))
    )
    return strategy.write(update, TASKS.c.version).add_cte(prior).returning(prior.c.list_id)


def _finding(moves: int, lost: int, unaccounted: int, actual_a: int, actual_b: int, expected_a: int) -> str:
    said = []
    if lost:
        said.append(f"{lost:,} of {count(moves, 'move')} lost: their task was already in the target list")
    if unaccounted:
        said.append(f"list A holds {actual_a:,} tasks, the moves that moved a task say {expected_a:,}")
    return "; ".join(said) or f"{count(moves, 'move')}, lists hold {actual_a:,} + {actual_b:,} as expected"
