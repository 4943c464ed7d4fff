"""One scripted session: its own psycopg connection, its own backend, one statement at a time.

A statement runs on a short-lived daemon thread so that the runner is never stuck behind a lock
wait; the runner learns the statement's fate from a `Future` and asks the server, not the thread,
whether it is waiting on a lock. Connections are in autocommit mode: the scripts send BEGIN,
COMMIT and ROLLBACK themselves, so the transcript shows every statement the server received.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import pq

# How long cleanup waits for a cancelled statement to come back before killing its backend.
_CANCEL_GRACE_S = 2.0


@dataclass(frozen=True)
class Result:
    """What the server answered to one statement."""

    command: str | None = None
    columns: list[str] | None = None
    rows: list[list[Any]] | None = None
    sqlstate: str | None = None
    error: str | None = None

    @property
    def failed(self) -> bool:
        return self.sqlstate is not None or self.error is not None


class Session:
    """A named session (``T1``) on a connection of its own."""

    def __init__(self, name: str, conn: psycopg.Connection) -> None:
        self.name = name
        self.conn = conn
        self.pid: int = conn.info.backend_pid
        self._thread: threading.Thread | None = None

    @classmethod
    def open(cls, name: str, dsn: str, *, schema: str) -> Session:
        conn = psycopg.connect(
            dsn,
            autocommit=True,
            connect_timeout=10,
            prepare_threshold=None,
            # The schema is unique per run: anyone can find this run's sessions in pg_stat_activity.
            application_name=f"concord anomalies {schema} {name}",
            options=f"-c search_path={schema}",
        )
        return cls(name, conn)

    @property
    def in_failed_transaction(self) -> bool:
        """The server's view: this session's transaction has failed and awaits ROLLBACK."""
        return self.conn.info.transaction_status == pq.TransactionStatus.INERROR

    def submit(self, statement: str, params: tuple[Any, ...] | None) -> Future[Result]:
        """Start the statement and return at once; the future holds the server's answer."""
        future: Future[Result] = Future()
        self._thread = threading.Thread(
            target=self._execute, args=(statement, params, future), name=f"anomalies-{self.name}", daemon=True
        )
        self._thread.start()
        return future

    def _execute(self, statement: str, params: tuple[Any, ...] | None, future: Future[Result]) -> None:
        try:
            cursor = self.conn.execute(statement, params)
            columns = [column.name for column in cursor.description] if cursor.description else None
            rows = [list(row) for row in cursor.fetchall()] if columns is not None else None
            future.set_result(Result(command=cursor.statusmessage, columns=columns, rows=rows))
        except psycopg.Error as exc:
            message = (exc.diag.message_primary or str(exc)).strip().splitlines()[0]
            future.set_result(Result(sqlstate=exc.sqlstate, error=message))
        except BaseException as exc:  # a bug in a params function, say: the runner reports it
            future.set_exception(exc)

    def close(self, terminate: Callable[[int], None]) -> None:
        """Cancel what is running, roll back, close. ``terminate(pid)`` is the last resort."""
        thread = self._thread
        if thread is not None and thread.is_alive():
            with contextlib.suppress(psycopg.Error):
                self.conn.cancel_safe(timeout=_CANCEL_GRACE_S)
            thread.join(_CANCEL_GRACE_S)
            if thread.is_alive():
                with contextlib.suppress(psycopg.Error):
                    terminate(self.pid)
                thread.join(_CANCEL_GRACE_S)
        try:
            if thread is None or not thread.is_alive():
                self._rollback()
        finally:
            self.conn.close()

    def _rollback(self) -> None:
        try:
            if not self.conn.closed and self.conn.info.transaction_status != pq.TransactionStatus.IDLE:
                self.conn.execute("ROLLBACK")
        except psycopg.Error:
            pass  # a terminated backend cannot roll back; closing ends its transaction anyway
