"""The coordinator's side: one `Waits` per experiment (its connection, what the server allows),
one `CellWaits` per cell (counters before, the sampler while the workers race, counters after).

The sampler's connection goes to the server's maintenance database (``postgres``) when it can:
``pg_stat_activity``, ``pg_blocking_pids`` and ``pg_stat_database`` see every database from
there, and the sampler's own hundred statements a second then do not count in the race
database's ``xact_commit``. When it cannot, it connects to the race database and the
reconciliation says its statements count there too.
"""

from __future__ import annotations

import contextlib
from typing import Any

import psycopg

from concord.race.waits import server
from concord.race.waits.cpu import CpuWatch, cpu_entry
from concord.race.waits.describe import honesty_line
from concord.race.waits.nowait_log import PARAMETER, LogWatch
from concord.race.waits.sampler import Query, Sampler, interval_for

APPLICATION_NAME = "concord race waits"
MAINTENANCE_DATABASE = "postgres"
LOCAL_HOSTS = frozenset({"", "localhost", "127.0.0.1", "::1"})


class Waits:
    """What every cell of an experiment shares: the sampler's connection and the server's facts."""

    def __init__(self, conn: psycopg.Connection, database: str, *, separate: bool, log: LogWatch) -> None:
        self.conn, self.database, self.separate, self.log = conn, database, separate, log
        host = conn.info.host or ""
        self.server_local = host.startswith("/") or host in LOCAL_HOSTS
        self.query = Query(conn)

    @classmethod
    def open(cls, dsn: str, database: str) -> Waits:
        """Connect (to the maintenance database if the server lets us); raises psycopg's error."""
        conn: psycopg.Connection | None = None
        if database != MAINTENANCE_DATABASE:
            with contextlib.suppress(psycopg.Error):
                conn = psycopg.connect(
                    dsn, dbname=MAINTENANCE_DATABASE, autocommit=True, application_name=APPLICATION_NAME
                )
        separate = conn is not None
        if conn is None:
            conn = psycopg.connect(dsn, autocommit=True, application_name=APPLICATION_NAME)
        try:
            return cls(conn, database, separate=separate, log=LogWatch.open(conn))
        except BaseException:
            conn.close()
            raise

    def close(self) -> None:
        self.conn.close()

    def settings(self, strategy: str) -> tuple[tuple[str, str], ...]:
        """Extra session settings for a cell's workers: the NOWAIT holders' log where it works."""
        return ((PARAMETER, "on"),) if strategy == "nowait" and self.log.path is not None else ()

    def cell(self, executor: str, strategy: str) -> CellWaits:
        return CellWaits(self, executor, strategy)


class CellWaits:
    """One cell: `start` once the workers connected, `stop` at the deadline, `finish` once they
    ended. `stop` is safe to call on any path, more than once."""

    def __init__(self, waits: Waits, executor: str, strategy: str) -> None:
        self.waits, self.executor, self.strategy = waits, executor, strategy
        self.sampler: Sampler | None = None
        self.before: dict[str, int] = {}
        self.log_offset: int | None = None
        self.workers: dict[int, int] = {}

    def settings(self) -> tuple[tuple[str, str], ...]:
        """Extra session settings for this cell's workers (see `Waits.settings`)."""
        return self.waits.settings(self.strategy)

    def signaller(self) -> psycopg.Connection | None:
        """The connection to cancel workers' queries from once sampling stopped: the sampler's
        when it is outside the race database, so the signals do not count in its counters."""
        return self.waits.conn if self.waits.separate else None

    def start(self, pids: dict[int, int | None], running: Any) -> None:
        waits = self.waits
        self.workers = {pid: worker for worker, pid in pids.items() if pid}
        self.before = server.read_counters(waits.conn, waits.database)
        if waits.settings(self.strategy):
            self.log_offset = waits.log.size()
        client = ["self", *getattr(running, "pids", list)()]  # worker processes, if any
        backends = [pid for pid in self.workers if waits.server_local and local_pid_is_postgres(pid)]
        own = waits.conn.info.backend_pid
        cpu = CpuWatch(client, backends, [own] if waits.server_local and local_pid_is_postgres(own) else [])
        self.sampler = Sampler(waits.query, self.workers, interval_for(len(pids)), cpu)
        self.sampler.start()

    def stop(self) -> None:
        if self.sampler is not None:
            self.sampler.stop()

    def finish(
        self, reports: list[Any], totals: Any, *, hurry: bool = False
    ) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """The cell's ``waits`` and ``server`` entries, once its workers have stopped; with
        ``hurry`` (Ctrl-C) the server's counters are read without waiting for them to settle."""
        if self.sampler is None:
            return None, None
        self.stop()
        sampler, waits = self.sampler, self.waits
        entry = sampler.tally.summary(sampler.interval_s)
        entry["seconds_sampled"] = round(sampler.seconds, 3)
        entry["sampler_cpu_s"] = round(sampler.cpu_s, 4)
        entry["cpu"] = cpu_entry(sampler.cpu, sampler.seconds, self.executor, server_local=waits.server_local)
        if sampler.error:
            entry["error"] = sampler.error
        if self.strategy == "nowait":
            entry["nowait"] = self._nowait()
        entry["note"] = honesty_line(entry)
        return entry, self._server(reports, totals, hurry)

    def _nowait(self) -> dict[str, Any]:
        log = self.waits.log
        if log.path is None or self.log_offset is None:
            return {"available": False, "reason": log.reason}
        return log.failures_since(self.log_offset, self.workers)

    def _server(self, reports: list[Any], totals: Any, hurry: bool) -> dict[str, Any] | None:
        waits = self.waits
        try:
            after = (
                server.read_counters(waits.conn, waits.database)
                if hurry
                else server.settled(waits.conn, waits.database, list(self.workers))
            )
        except psycopg.Error:
            return None  # the server went away: the cell already says so
        counters = server.delta(self.before, after)
        clients = {
            "deadlocks": totals.conflicts.get("deadlock", 0),
            "rollbacks": totals.attempts - totals.commits,
            "commits": totals.commits + sum(r.empty_commits for r in reports),
        }
        reconciliation = server.reconcile(counters, clients)
        out: dict[str, Any] = {"database": waits.database, **counters, "reconciliation": reconciliation}
        out["mismatches"] = server.mismatches(reconciliation)
        if not waits.separate:
            out["note"] = "the sampler ran in the race database: its own statements count in xact_commit"
        return out


def local_pid_is_postgres(pid: int) -> bool:
    """Whether ``pid`` on this machine is a PostgreSQL process (a local server's backend)."""
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip().startswith("postgres")
    except OSError:
        return False
