"""What the seed loads (`SeedPlan`), its laws, and the drawn columns of its tasks, a chunk at a
time, with numpy.

Every random column has a stream of its own (`numpy.random.SeedSequence(seed).spawn`), read in
row order: the same plan gives the same rows whatever the chunk size, and the activity entries can
draw the tasks' lists again on their own (one stream, a cheap draw) instead of keeping a column
of the board of every task in memory. A chunk holds `CHUNK` rows, so memory stays flat whatever
the number of tasks.

The laws: list sizes and assignees' loads follow a Zipf-Mandelbrot law (weight of the k-th item
~ 1 / (k + q)^s) over shuffled ranks: a few lists hold many tasks and many lists hold a few, a few
users carry much of the work, like real boards. The offset ``q`` flattens the head so that no
single list holds a large share of all tasks (with the default plan the busiest list holds about
2% of them), which is what a board the planner meets looks like. A quarter of the tasks stay
unassigned, statuses are 55/30/15 done/todo/doing, points follow `POINTS`, each task goes to the
end of its list, and tasks are created in id order over `HISTORY` in `STAMP_STEPS` steps.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

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

CHUNK = 1 << 16
STATUSES = ("todo", "doing", "done")
# PostgreSQL's timestamps count microseconds from 2000-01-01 UTC.
PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
# The streams, in spawn order: adding one at the end keeps every existing column as it was.
_STREAMS = ("list_ranks", "user_ranks", "list", "assigned", "user", "title", "status", "points")


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

    def total_rows(self) -> int:
        return sum(self.row_counts().values())


@dataclass(frozen=True)
class IdBase:
    """The largest id already in each table: new rows are numbered after it (0 on an empty table)."""

    users: int = 0
    boards: int = 0
    task_lists: int = 0
    tasks: int = 0
    activity: int = 0


def zipf_cumulative(n: int, rng: np.random.Generator) -> np.ndarray:
    """Cumulative Zipf-Mandelbrot weights over ``n`` items whose ranks ``rng`` shuffles."""
    ranks = rng.permutation(n)
    return np.cumsum(1.0 / (ranks + 1 + ZIPF_Q) ** ZIPF_S)


def pick(cumulative: np.ndarray, uniform: np.ndarray) -> np.ndarray:
    """Indexes drawn from cumulative weights with uniforms in [0, 1) (inverse transform)."""
    return np.searchsorted(cumulative, uniform * cumulative[-1], side="right")


def stamp_micros(first: int, count: int, total: int) -> np.ndarray:
    """Creation time of tasks ``first`` .. ``first + count - 1`` (0-based) of ``total``, in
    PostgreSQL's microseconds: tasks are created in id order, `STAMP_STEPS` distinct times."""
    start = (EPOCH - HISTORY - PG_EPOCH) // MICROSECOND
    step = HISTORY / STAMP_STEPS // MICROSECOND  # a whole number of microseconds
    n = np.arange(first, first + count, dtype=np.int64)
    return start + (n * STAMP_STEPS // total) * step


def status_table() -> np.ndarray:
    """100 slots filled in proportion to STATUS_WEIGHTS: a draw is one multiply and one index."""
    codes = {status: code for code, status in enumerate(STATUSES)}
    return np.repeat(
        np.array([codes[s] for s, _ in STATUS_WEIGHTS], dtype=np.int8),
        [round(weight * 100) for _, weight in STATUS_WEIGHTS],
    )


@dataclass(frozen=True)
class TaskChunk:
    """Rows ``first`` .. ``first + len(ids) - 1`` (0-based) of the plan's tasks, as columns."""

    first: int
    ids: np.ndarray  # int64
    slots: np.ndarray  # int64: which list of the plan (0-based); list id = first list id + slot
    positions: np.ndarray  # int64: place in its list, from 0
    title_codes: np.ndarray  # int64: which of the 64 title stems
    status_codes: np.ndarray  # int8: index into STATUSES
    points: np.ndarray  # int64
    assignees: np.ndarray  # int64 user id, 0 where unassigned
    stamps: np.ndarray  # int64 microseconds since 2000-01-01 UTC


class Draws:
    """The random streams of one plan."""

    def __init__(self, plan: SeedPlan) -> None:
        children = np.random.SeedSequence(plan.seed).spawn(len(_STREAMS))
        streams = zip(_STREAMS, children, strict=True)
        self.rng = {name: np.random.Generator(np.random.PCG64(child)) for name, child in streams}
        self.list_weights = zipf_cumulative(plan.lists, self.rng["list_ranks"])
        self.user_weights = zipf_cumulative(plan.users, self.rng["user_ranks"]) if plan.users else None

    def slots(self, count: int) -> np.ndarray:
        return pick(self.list_weights, self.rng["list"].random(count))


def list_slots(plan: SeedPlan) -> Iterator[np.ndarray]:
    """The list (slot) of every task, chunk by chunk: what the activity entries need."""
    draws = Draws(plan)
    for first in range(0, plan.tasks, CHUNK):
        yield draws.slots(min(CHUNK, plan.tasks - first))


def task_chunks(plan: SeedPlan, base: IdBase) -> Iterator[TaskChunk]:
    """The plan's tasks in id order, `CHUNK` rows at a time."""
    draws = Draws(plan)
    rng = draws.rng
    next_position = np.zeros(plan.lists, dtype=np.int64)
    statuses, points = status_table(), np.array(POINTS, dtype=np.int64)
    for first in range(0, plan.tasks, CHUNK):
        count = min(CHUNK, plan.tasks - first)
        slots = draws.slots(count)
        assigned = rng["assigned"].random(count) >= UNASSIGNED_SHARE
        users = rng["user"].random(count)
        if draws.user_weights is None:
            assignees = np.zeros(count, dtype=np.int64)
        else:
            assignees = np.where(assigned, base.users + 1 + pick(draws.user_weights, users), 0)
        yield TaskChunk(
            first=first,
            ids=np.arange(base.tasks + 1 + first, base.tasks + 1 + first + count, dtype=np.int64),
            slots=slots,
            positions=_positions(slots, next_position),
            title_codes=(rng["title"].random(count) * 64).astype(np.int64),
            status_codes=statuses[(rng["status"].random(count) * 100).astype(np.int64)],
            points=points[(rng["points"].random(count) * len(POINTS)).astype(np.int64)],
            assignees=assignees,
            stamps=stamp_micros(first, count, plan.tasks),
        )


def _positions(slots: np.ndarray, next_position: np.ndarray) -> np.ndarray:
    """Each task's place at the end of its list, in id order; advances ``next_position``."""
    order = np.argsort(slots, kind="stable")
    ordered = slots[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    run_lengths = np.diff(np.r_[starts, len(ordered)])
    rank = np.arange(len(ordered)) - np.repeat(starts, run_lengths)
    positions = np.empty_like(slots)
    positions[order] = next_position[ordered] + rank
    np.add.at(next_position, ordered[starts], run_lengths)
    return positions


def micros_to_datetime(micros: int) -> datetime:
    """A timestamp in PostgreSQL's microseconds as an aware datetime."""
    return PG_EPOCH + micros * MICROSECOND
