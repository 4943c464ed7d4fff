"""How far the seed has got, phase by phase, including inside one long statement.

The seed reports a `Step` at every change (a table copied, an index started). Inside a statement
the server knows how far it is: a second connection reads `pg_stat_progress_create_index` and
`pg_stat_progress_analyze` for the seeding backend every `POLL` seconds, so the bar moves while
a ten-million-row index is sorted. Adding a foreign key back has no progress view: that phase
moves one constraint at a time. Progress is only for people: if the watching connection cannot be
opened or fails, the seed goes on without it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace

import psycopg

POLL = 0.25  # seconds between two looks at the progress views

# The fraction of its work a backend has done, by phase of CREATE INDEX or ANALYZE: scanning the
# heap is the first half of building an index, sorting and writing the tree the second.
_FRACTION = """
SELECT CASE
         WHEN i.phase = 'building index: scanning table' AND i.blocks_total > 0
           THEN 0.5 * i.blocks_done / i.blocks_total
         WHEN i.phase LIKE 'building index: loading tuples in tree' AND i.tuples_total > 0
           THEN 0.5 + 0.5 * i.tuples_done / i.tuples_total
         WHEN i.phase LIKE 'building index: sorting%%' THEN 0.5
         WHEN a.sample_blks_total > 0 THEN a.sample_blks_scanned::float8 / a.sample_blks_total
       END
  FROM (SELECT %(pid)s AS pid) AS seeding
  LEFT JOIN pg_stat_progress_create_index AS i ON i.pid = seeding.pid
  LEFT JOIN pg_stat_progress_analyze AS a ON a.pid = seeding.pid
"""


@dataclass(frozen=True)
class Step:
    """Where the seed is: ``done`` of ``total`` units of ``phase`` (rows while copying, objects
    while building indexes and keys, tables while analyzing), on ``what``."""

    phase: str
    what: str
    done: float
    total: float


Progress = Callable[[Step], None]


def ignore(_step: Step) -> None:
    """The default listener: nobody is watching."""


class Watch:
    """Forwards steps to ``listener``, and while a statement runs, how far into it the server is.

    Use as a context manager around the load; ``pid`` is the seeding connection's backend.
    """

    def __init__(self, dsn: str, pid: int, listener: Progress) -> None:
        self.dsn, self.pid, self.listener = dsn, pid, listener
        self._step: Step | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, name="concord-seed-progress", daemon=True)

    def __enter__(self) -> Watch:
        if self.listener is not ignore:
            self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def step(self, phase: str, what: str, done: float, total: float) -> None:
        """The seed has reached ``done`` of ``total`` in ``phase``; the next unit is ``what``."""
        step = Step(phase, what, done, total)
        with self._lock:
            self._step = step
        self.listener(step)

    def _poll(self) -> None:
        try:
            with psycopg.connect(self.dsn, autocommit=True, application_name="concord seed progress") as conn:
                while not self._stop.wait(POLL):
                    row = conn.execute(_FRACTION, {"pid": self.pid}).fetchone()
                    fraction = row[0] if row else None
                    with self._lock:
                        step = self._step
                    if fraction is not None and step is not None:
                        self.listener(replace(step, done=min(step.done + fraction, step.total)))
        except psycopg.Error:
            return  # progress is a courtesy: the seed itself reports its own errors
