"""How much disk a seed takes, said before it starts, and refused when the disk cannot hold it.

The rows and indexes of one task, its activity entry and their share of lists, boards and users
take about `BYTES_PER_TASK` bytes (measured on a seeded database: tasks 124 B of heap and 80 B of
indexes, activity entries 85 B and 86 B). While it loads, the server also keeps up to
``max_wal_size`` of write-ahead log, and a sort too big for ``maintenance_work_mem`` spills to
temporary files as big as the index it builds; the old rows of ``--reset`` are freed only when
the new ones commit. The free space is known only when the server runs on this machine (a Unix
socket or localhost) and tells where its data directory is.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import psycopg

from concord.errors import ConcordError
from concord.seed.draws import SeedPlan

BYTES_PER_TASK = 380
BYTES_PER_LIST = 150  # lists, boards and users: a few thousand narrow rows
SPILL_SHARE = 0.25  # the biggest index sort's temporary files, as a share of the whole
_LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")


class NotEnoughSpace(ConcordError):
    """The disk under the server's data directory cannot hold the seed."""


@dataclass(frozen=True)
class Space:
    """Bytes the seed keeps (``rows``), bytes it needs on top while it runs (``working``), and
    the bytes free under ``where`` (None when this machine cannot see the server's disk)."""

    rows: int
    working: int
    free: int | None
    where: str | None

    @property
    def enough(self) -> bool:
        return self.free is None or self.rows + self.working <= self.free

    def describe(self) -> str:
        said = f"about {_size(self.rows)} of tables and indexes"
        said += f", and up to {_size(self.working)} more while loading"
        if self.free is not None:
            said += f" ({_size(self.free)} free on {self.where})"
        return said


def estimate(plan: SeedPlan) -> int:
    """Bytes the plan's rows and indexes take once loaded."""
    return plan.tasks * BYTES_PER_TASK + (plan.lists + plan.boards + plan.users) * BYTES_PER_LIST


def measure(conn: psycopg.Connection, plan: SeedPlan) -> Space:
    """The seed's space on the server behind ``conn``."""
    rows = estimate(plan)
    [wal] = conn.execute("SELECT pg_size_bytes(current_setting('max_wal_size'))").fetchone() or (0,)
    working = wal + int(rows * SPILL_SHARE)
    where = _data_directory(conn)
    free = shutil.disk_usage(where).free if where else None
    return Space(rows=rows, working=working, free=free, where=where)


def _data_directory(conn: psycopg.Connection) -> str | None:
    host = conn.info.host
    if not (host.startswith("/") or host in _LOCAL_HOSTS):
        return None
    try:
        [directory] = conn.execute("SELECT current_setting('data_directory')").fetchone() or (None,)
    except psycopg.errors.InsufficientPrivilege:
        conn.rollback()
        return None
    return directory if directory and Path(directory).is_dir() else None


def _size(n: float) -> str:
    """Bytes as pg_size_pretty says them (units of 1024)."""
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if n < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit in ("B", "kB") else f"{n:,.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")
