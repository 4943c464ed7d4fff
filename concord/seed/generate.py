"""Reproducible, skewed rows for the seed: the same plan and seed always give the same rows.

Sizes follow a Zipf-Mandelbrot law (weight of the k-th item ~ 1 / (k + q)^s): a few lists hold many
tasks and many lists hold a few, a few users carry much of the work, like real boards. The offset
``q`` flattens the head so that no single list holds a large share of all tasks (with the default
plan the busiest list holds about 2% of them), which is what a board the planner meets looks like.

Everything is drawn from one `random.Random(seed)` in a fixed order, so rows are a pure function
of the plan. Generators yield tuples in the column order of `COLUMNS`, ready for a binary COPY.
"""

from __future__ import annotations

import bisect
import itertools
import random
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

ZIPF_S = 1.0
ZIPF_Q = 10.0
UNASSIGNED_SHARE = 0.25
STATUS_WEIGHTS = (("todo", 0.30), ("doing", 0.15), ("done", 0.55))
POINTS = (0, 1, 1, 2, 2, 3, 3, 5, 5, 8, 13)
LIST_NAMES = ("Backlog", "To do", "Doing", "Review", "Done", "Icebox", "Blocked", "Later")
VERBS = ("Fix", "Write", "Review", "Ship", "Refactor", "Test", "Document", "Plan")
NOUNS = (
    "login page",
    "billing export",
    "search index",
    "onboarding flow",
    "API limits",
    "nightly report",
    "cache layer",
    "mobile menu",
)
HISTORY = timedelta(days=365)
STAMP_STEPS = 4096  # distinct creation times: tasks are created in id order over HISTORY
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)

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


@dataclass(frozen=True)
class SeedPlan:
    """How much to load. Activity gets one ``task.created`` entry per task, as the library writes."""

    boards: int = 500
    lists_per_board: int = 6
    tasks: int = 100_000
    users: int = 500
    seed: int = 42

    @property
    def lists(self) -> int:
        return self.boards * self.lists_per_board

    def row_counts(self) -> dict[str, int]:
        return {
            "users": self.users,
            "boards": self.boards,
            "task_lists": self.lists,
            "tasks": self.tasks,
            "activity": self.tasks,
        }


@dataclass(frozen=True)
class IdBase:
    """The largest id already in each table: new rows are numbered after it (0 on an empty table)."""

    users: int = 0
    boards: int = 0
    task_lists: int = 0
    tasks: int = 0
    activity: int = 0


def zipf_cumulative(n: int, rng: random.Random) -> list[float]:
    """Cumulative Zipf-Mandelbrot weights over ``n`` items whose ranks are shuffled by ``rng``."""
    ranks = list(range(n))
    rng.shuffle(ranks)
    return list(itertools.accumulate(1.0 / (rank + 1 + ZIPF_Q) ** ZIPF_S for rank in ranks))


def pick(cumulative: Sequence[float], u: float) -> int:
    """Index drawn from cumulative weights with a uniform ``u`` in [0, 1)."""
    return bisect.bisect_right(cumulative, u * cumulative[-1])


class Rows:
    """The rows of one plan, table by table, numbered after ``base``."""

    def __init__(self, plan: SeedPlan, base: IdBase = IdBase()) -> None:
        self.plan = plan
        self.base = base
        self.rng = random.Random(plan.seed)
        self.list_weights = zipf_cumulative(plan.lists, self.rng)
        self.user_weights = zipf_cumulative(plan.users, self.rng) if plan.users else []
        self._task_boards: array | None = None  # board of each task, kept for its activity entry

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
        plan, rng, base = self.plan, self.rng, self.base
        next_position = [0] * plan.lists
        stamps = _stamps()
        titles = [f"{verb} {noun}" for verb in VERBS for noun in NOUNS]
        statuses = _status_table()
        random_, bisect_right = rng.random, bisect.bisect_right
        list_weights, user_weights = self.list_weights, self.user_weights
        list_total, user_total = list_weights[-1], user_weights[-1] if user_weights else 0.0
        boards = self._task_boards = array("q", bytes(8 * plan.tasks))
        first_board, per_board = base.boards + 1, plan.lists_per_board
        first_list, first_user, n_points = base.task_lists + 1, base.users + 1, len(POINTS)
        for n in range(plan.tasks):
            # The hot loop of a million-row seed: draws are inlined rather than calls to `pick`.
            slot = bisect_right(list_weights, random_() * list_total)
            position = next_position[slot]
            next_position[slot] = position + 1
            boards[n] = first_board + slot // per_board
            assignee = None
            if user_total and random_() >= UNASSIGNED_SHARE:
                assignee = first_user + bisect_right(user_weights, random_() * user_total)
            stamp = stamps[n * STAMP_STEPS // plan.tasks]
            task_id = base.tasks + 1 + n
            yield (
                task_id,
                first_list + slot,
                f"{titles[int(random_() * 64)]} #{task_id}",
                position,
                statuses[int(random_() * 100)],
                POINTS[int(random_() * n_points)],
                assignee,
                stamp,
                stamp,
            )

    def activity(self) -> Iterator[tuple]:
        """One ``task.created`` entry per task, at the task's creation time, on the task's board.

        Needs `tasks` to have been consumed first (the load order), which noted each task's board.
        """
        plan, base, boards = self.plan, self.base, self._task_boards
        if boards is None:
            raise RuntimeError("activity rows follow the task rows: generate the tasks first")
        stamps = _stamps()
        for n in range(plan.tasks):
            yield (
                base.activity + 1 + n,
                boards[n],
                base.tasks + 1 + n,
                "task.created",
                stamps[n * STAMP_STEPS // plan.tasks],
            )

    def of(self, table: str) -> Iterator[tuple]:
        return getattr(self, table)()


def _stamps() -> list[datetime]:
    start = EPOCH - HISTORY
    step = HISTORY / STAMP_STEPS
    return [start + step * k for k in range(STAMP_STEPS)]


def _status_table() -> list[str]:
    """100 slots filled in proportion to STATUS_WEIGHTS: a draw is one multiply and one index."""
    table: list[str] = []
    for status, weight in STATUS_WEIGHTS:
        table.extend([status] * round(weight * 100))
    return table
