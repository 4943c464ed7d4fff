"""Who held the row a failed ``NOWAIT`` wanted: PostgreSQL 18's ``log_lock_failures``.

With ``log_lock_failures = on`` a session whose ``NOWAIT`` fails logs the lock's holders:

    LOG:  process 4242 could not obtain ShareLock on transaction 1234
    DETAIL:  Process holding the lock: 4243, Wait queue: .

The holders are in the DETAIL, which goes to the server's log only (``errdetail_log``), never to
the client. So this works where concord can set the parameter (superuser, or granted SET) and
read the server's log file from this machine: the embedded server (``<data dir>/log``), or a
local server with ``logging_collector`` (``pg_current_logfile()``). Anywhere else `LogWatch.open`
says why it cannot, and the cell says so.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from pathlib import Path
from typing import Any

import psycopg

PARAMETER = "log_lock_failures"
FAILED = re.compile(r"process (\d+) could not obtain (\S+) on (.+)$")
HOLDERS = re.compile(r"Process(?:es)? holding the lock: ([\d, ]*), Wait queue: ([\d, ]*)\.")
#: Read at most this much of the log per cell: a cell of NOWAIT failures logs two lines each.
MAX_READ = 64 * 1024 * 1024


class LogWatch:
    """Where the server logs, if concord may turn the parameter on and read the file; else why not."""

    def __init__(self, path: Path | None, reason: str | None) -> None:
        self.path, self.reason = path, reason

    @classmethod
    def open(cls, conn: psycopg.Connection) -> LogWatch:
        version = conn.info.server_version
        if version < 180000:
            return cls(None, f"PostgreSQL {version // 10000} has no {PARAMETER} (18 and later)")
        row = conn.execute("SELECT has_parameter_privilege(%s, 'SET')", (PARAMETER,)).fetchone()
        if not (row and row[0]):
            return cls(None, f"this role may not set {PARAMETER} (superuser or GRANT SET needed)")
        try:  # both need superuser or pg_read_all_settings / pg_monitor: an error, not a NULL
            row = conn.execute("SELECT current_setting('data_directory'), pg_current_logfile()").fetchone()
        except psycopg.Error:
            return cls(
                None, "this role may not see where the server logs (data_directory, pg_current_logfile)"
            )
        data_dir, logfile = row if row else (None, None)
        if not data_dir:
            return cls(None, "the server's data directory is not visible to this role")
        path = Path(data_dir) / (logfile or "log")  # `log`: where the embedded server writes
        if not (path.is_file() and os.access(path, os.R_OK)):
            return cls(None, f"the server's log ({path}) is not readable from this machine")
        return cls(path, None)

    def size(self) -> int:
        assert self.path is not None
        try:
            return self.path.stat().st_size
        except OSError:
            return 0

    def failures_since(self, offset: int, workers: dict[int, int]) -> dict[str, Any]:
        """The failed NOWAITs logged since ``offset`` by the cell's workers, as waiter -> holder
        edges (``workers``: backend pid -> worker)."""
        assert self.path is not None
        try:
            with self.path.open("rb") as log:
                log.seek(offset)
                text = log.read(MAX_READ).decode("utf-8", "replace")
        except OSError as exc:
            return {"available": False, "reason": f"could not read {self.path}: {exc.strerror}"}
        return {"available": True, **parse_failures(text.splitlines(), workers)}


def parse_failures(lines: list[str], workers: dict[int, int]) -> dict[str, Any]:
    """Pair each 'could not obtain' line with the DETAIL line after it."""
    edges: Counter[tuple[int | None, int | None]] = Counter()
    logged = 0
    waiter: int | None = None
    for line in lines:
        failed = FAILED.search(line)
        if failed:
            pid = int(failed.group(1))
            waiter = pid if pid in workers else None
            continue
        held = HOLDERS.search(line)
        if held and waiter is not None:
            logged += 1
            for holder in (int(p) for p in held.group(1).replace(" ", "").split(",") if p):
                edges[(workers[waiter], workers.get(holder))] += 1
            waiter = None
    return {
        "logged": logged,
        "holders": [{"waiter": w, "holder": h, "failures": n} for (w, h), n in edges.most_common()],
    }
