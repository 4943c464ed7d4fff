"""The seed's rows as Python tuples: the small tables as they are loaded, the big ones for reading.

Users, boards and lists are a few thousand rows and go in through psycopg's binary COPY of tuples
(`concord.seed.load`). Tasks and activity entries go in as COPY bytes built by numpy
(`concord.seed.binary`); `Rows.tasks` and `Rows.activity` give the same rows as tuples, from the
same drawn columns (`concord.seed.draws`), for tests and for anyone who wants to look at them.
Rows are a pure function of the plan: the same plan and seed always give the same rows.
"""

from __future__ import annotations

from collections.abc import Iterator

from concord.seed.draws import (
    LIST_NAMES,
    NOUNS,
    STATUSES,
    VERBS,
    IdBase,
    SeedPlan,
    list_slots,
    micros_to_datetime,
    stamp_micros,
    task_chunks,
)

__all__ = ["COLUMNS", "IdBase", "Rows", "SeedPlan"]

# Column lists and PostgreSQL types of the binary COPY of each table, in row-tuple order.
COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "users": (("id", "int8"), ("name", "text")),
    "boards": (("id", "int8"), ("name", "text")),
    "task_lists": (("id", "int8"), ("board_id", "int8"), ("name", "text"), ("position", "int4")),
    "tasks": (
        ("id", "int8"),
        ("list_id", "int8"),
        ("title", "text"),
        ("position", "int4"),
        ("status", "text"),
        ("points", "int4"),
        ("assignee_id", "int8"),
        ("created_at", "timestamptz"),
        ("updated_at", "timestamptz"),
    ),
    "activity": (
        ("id", "int8"),
        ("board_id", "int8"),
        ("task_id", "int8"),
        ("action", "text"),
        ("created_at", "timestamptz"),
    ),
}
TITLES = [f"{verb} {noun}" for verb in VERBS for noun in NOUNS]


class Rows:
    """The rows of one plan, table by table, numbered after ``base``."""

    def __init__(self, plan: SeedPlan, base: IdBase = IdBase()) -> None:
        self.plan = plan
        self.base = base

    def users(self) -> Iterator[tuple]:
        for n in range(self.base.users + 1, self.base.users + self.plan.users + 1):
            yield (n, f"user-{n:07d}")

    def boards(self) -> Iterator[tuple]:
        for n in range(self.base.boards + 1, self.base.boards + self.plan.boards + 1):
            yield (n, f"Board {n}")

    def task_lists(self) -> Iterator[tuple]:
        per_board = self.plan.lists_per_board
        for n in range(self.plan.lists):
            board_id = self.base.boards + 1 + n // per_board
            position = n % per_board
            yield (self.base.task_lists + 1 + n, board_id, LIST_NAMES[position % len(LIST_NAMES)], position)

    def tasks(self) -> Iterator[tuple]:
        """Tasks in id (creation) order; each goes to the end of its list, as `task create` does."""
        first_list = self.base.task_lists + 1
        for chunk in task_chunks(self.plan, self.base):
            for task_id, slot, title, position, status, points, assignee, stamp in zip(
                chunk.ids.tolist(),
                chunk.slots.tolist(),
                chunk.title_codes.tolist(),
                chunk.positions.tolist(),
                chunk.status_codes.tolist(),
                chunk.points.tolist(),
                chunk.assignees.tolist(),
                chunk.stamps.tolist(),
                strict=True,
            ):
                created = micros_to_datetime(stamp)
                yield (
                    task_id,
                    first_list + slot,
                    f"{TITLES[title]} #{task_id}",
                    position,
                    STATUSES[status],
                    points,
                    assignee or None,
                    created,
                    created,
                )

    def activity(self) -> Iterator[tuple]:
        """One ``task.created`` entry per task, at the task's creation time, on the task's board."""
        plan, base, first = self.plan, self.base, 0
        for slots in list_slots(plan):
            stamps = stamp_micros(first, len(slots), plan.tasks).tolist()
            for n, (slot, stamp) in enumerate(zip(slots.tolist(), stamps, strict=True), start=first):
                board_id = base.boards + 1 + slot // plan.lists_per_board
                yield (
                    base.activity + 1 + n,
                    board_id,
                    base.tasks + 1 + n,
                    "task.created",
                    micros_to_datetime(stamp),
                )
            first += len(slots)

    def of(self, table: str) -> Iterator[tuple]:
        return getattr(self, table)()
