"""PostgreSQL's binary COPY format for the seed's big tables, built a chunk at a time with numpy.

A binary COPY row is a field count, then for each field its length (-1 for NULL) and its bytes,
all big-endian. A task row has three parts of varying length (the title, the status, the
assignee that may be NULL), so a chunk is first laid out at the widest size in a numpy record
array, one column per field, then the padding bytes are dropped with one boolean mask over the
whole chunk: a row's title stem, ``" #"`` and id digits end up side by side because the bytes
between them are dropped. An activity row has fixed widths and is the record array as it is.

This is what makes a million-task seed cheap on the client: no Python object per row or field.
The text of every field is the generator's (`concord.seed.generate`); `tests/test_seed.py` reads
the rows back through the server and compares them with `concord.seed.generate.Rows`.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Iterable, Iterator

import numpy as np

from concord.seed.draws import STATUSES, IdBase, SeedPlan, TaskChunk, list_slots, stamp_micros, task_chunks
from concord.seed.generate import TITLES

_DEPTH = 2  # pieces built ahead of the one being sent
Piece = bytes | memoryview  # some of a COPY stream
SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # the header, flags 0, no extension area
TRAILER = b"\xff\xff"
ACTION = b"task.created"
DIGITS = 19  # an int8 id has at most 19 digits
NULL = -1


def _field(name: str, width: int | str) -> list[tuple]:
    """A field's length word and its value, as record-array columns."""
    kind = width if isinstance(width, str) else f"S{width}"
    return [(f"{name}_len", ">i4"), (name, kind)]


_STEM = max(len(title) for title in TITLES)  # ASCII: characters are bytes
_STATUS_WIDTH = max(len(status) for status in STATUSES)
TASK_ROW = np.dtype(
    [
        ("fields", ">i2"),
        *_field("id", ">i8"),
        *_field("list_id", ">i8"),
        ("title_len", ">i4"),
        ("stem", f"S{_STEM}"),
        ("hash", "S2"),
        ("digits", "u1", (DIGITS,)),
        *_field("position", ">i4"),
        *_field("status", _STATUS_WIDTH),
        *_field("points", ">i4"),
        *_field("assignee_id", ">i8"),
        *_field("created_at", ">i8"),
        *_field("updated_at", ">i8"),
    ]
)
ACTIVITY_ROW = np.dtype(
    [
        ("fields", ">i2"),
        *_field("id", ">i8"),
        *_field("board_id", ">i8"),
        *_field("task_id", ">i8"),
        *_field("action", len(ACTION)),
        *_field("created_at", ">i8"),
    ]
)
_STEMS = np.array([title.encode() for title in TITLES], dtype=f"S{_STEM}")
_STEM_LENGTHS = np.array([len(title) for title in TITLES], dtype=np.int64)
_STATUS_NAMES = np.array([status.encode() for status in STATUSES])
_STATUS_LENGTHS = np.array([len(status) for status in STATUSES], dtype=np.int64)
_POWERS = 10 ** np.arange(DIGITS - 1, -1, -1, dtype=np.int64)  # 10^18 .. 1, leftmost digit first
_THRESHOLDS = _POWERS[::-1]  # a value has as many digits as thresholds at or below it


def _offset(dtype: np.dtype, name: str) -> int:
    """Where field ``name`` starts in each record (its byte offset)."""
    fields = dtype.fields
    assert fields is not None  # a record type
    return fields[name][1]


def _digits(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ASCII digits of positive ``values``, right-aligned in `DIGITS` columns (only as many
    columns as the largest value needs are computed; the others are dropped), and how many each has."""
    count = np.searchsorted(_THRESHOLDS, values, side="right")
    width = int(count.max())
    columns = np.zeros((len(values), DIGITS), dtype=np.uint8)
    columns[:, DIGITS - width :] = (values[:, None] // _POWERS[DIGITS - width :]) % 10 + ord("0")
    return columns, count


def task_rows(chunk: TaskChunk, first_list: int) -> memoryview:
    """The binary COPY rows of one chunk of tasks (no signature, no trailer). A view of the
    array the mask made, not a copy: psycopg sends any buffer."""
    n = len(chunk.ids)
    rows = np.zeros(n, dtype=TASK_ROW)
    digits, digit_count = _digits(chunk.ids)
    stem_length = _STEM_LENGTHS[chunk.title_codes]
    status_length = _STATUS_LENGTHS[chunk.status_codes]
    assigned = chunk.assignees != 0
    rows["fields"] = 9
    for name in ("id", "list_id", "assignee_id", "created_at", "updated_at"):
        rows[f"{name}_len"] = 8
    rows["position_len"] = rows["points_len"] = 4
    rows["id"] = chunk.ids
    rows["list_id"] = first_list + chunk.slots
    rows["title_len"] = stem_length + 2 + digit_count
    rows["stem"] = _STEMS[chunk.title_codes]
    rows["hash"] = b" #"
    rows["digits"] = digits
    rows["position"] = chunk.positions
    rows["status_len"] = status_length
    rows["status"] = _STATUS_NAMES[chunk.status_codes]
    rows["points"] = chunk.points
    rows["assignee_id_len"] = np.where(assigned, 8, NULL)
    rows["assignee_id"] = chunk.assignees
    rows["created_at"] = rows["updated_at"] = chunk.stamps
    keep = np.ones((n, TASK_ROW.itemsize), dtype=bool)
    _keep_first(keep, _offset(TASK_ROW, "stem"), _STEM, stem_length)
    _keep_last(keep, _offset(TASK_ROW, "digits"), DIGITS, digit_count)
    _keep_first(keep, _offset(TASK_ROW, "status"), _STATUS_WIDTH, status_length)
    _keep_first(keep, _offset(TASK_ROW, "assignee_id"), 8, np.where(assigned, 8, 0))
    return rows.view(np.uint8).reshape(n, TASK_ROW.itemsize)[keep].data


def _keep_first(keep: np.ndarray, start: int, width: int, length: np.ndarray) -> None:
    """Keep the first ``length`` bytes of each row's ``width`` bytes at ``start``; drop the rest."""
    keep[:, start : start + width] = np.arange(width) < length[:, None]


def _keep_last(keep: np.ndarray, start: int, width: int, length: np.ndarray) -> None:
    keep[:, start : start + width] = np.arange(width) >= width - length[:, None]


def tasks_copy(plan: SeedPlan, base: IdBase) -> Iterator[tuple[Piece, int]]:
    """The whole binary COPY stream of the plan's tasks, signature and trailer included, as
    pieces and the number of rows in each."""
    yield SIGNATURE, 0
    for chunk in task_chunks(plan, base):
        yield task_rows(chunk, base.task_lists + 1), len(chunk.ids)
    yield TRAILER, 0


def activity_copy(plan: SeedPlan, base: IdBase) -> Iterator[tuple[Piece, int]]:
    """One ``task.created`` entry per task, on the task's board at its creation time, as a binary
    COPY stream in pieces as `tasks_copy`'s. The lists are drawn again from their own stream, so
    this needs no task rows."""
    yield SIGNATURE, 0
    first = 0
    for slots in list_slots(plan):
        n = len(slots)
        rows = np.zeros(n, dtype=ACTIVITY_ROW)
        rows["fields"] = 5
        rows["id_len"] = rows["board_id_len"] = rows["task_id_len"] = rows["created_at_len"] = 8
        rows["id"] = np.arange(base.activity + 1 + first, base.activity + 1 + first + n, dtype=np.int64)
        rows["board_id"] = base.boards + 1 + slots // plan.lists_per_board
        rows["task_id"] = np.arange(base.tasks + 1 + first, base.tasks + 1 + first + n, dtype=np.int64)
        rows["action_len"] = len(ACTION)
        rows["action"] = ACTION
        rows["created_at"] = stamp_micros(first, n, plan.tasks)
        first += n
        yield rows.view(np.uint8).data, n
    yield TRAILER, 0


@contextlib.contextmanager
def ahead(pieces: Iterable[tuple[Piece, int]]) -> Iterator[Iterator[tuple[Piece, int]]]:
    """Iterate ``pieces`` built on a thread of their own, `_DEPTH` ahead of the consumer. Leaving
    the block early (an error, Ctrl-C) stops the thread at its next piece."""
    handoff: queue.Queue = queue.Queue(_DEPTH)
    stop = threading.Event()
    end = object()

    def offer(item: object) -> bool:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def build() -> None:
        try:
            for piece in pieces:
                if not offer(piece):
                    return
            offer(end)
        except BaseException as exc:  # handed to the consumer, raised there
            offer(exc)

    def receive() -> Iterator[tuple[Piece, int]]:
        while (item := handoff.get()) is not end:
            if isinstance(item, BaseException):
                raise item
            yield item

    builder = threading.Thread(target=build, name="concord-seed-rows", daemon=True)
    builder.start()
    try:
        yield receive()
    finally:
        stop.set()
        builder.join()
