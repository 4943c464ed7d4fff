"""A libpq connection driven the way isolationtester drives its own.

psycopg's ``pq`` layer is libpq itself, so sending a step (PQsendQuery, the simple protocol:
several statements, one result each, stopping at the first error), polling its socket, reading
NOTICEs through the notice processor and cancelling all behave as in the C tester. psycopg's
higher layers would parse values and hide the multiple results, and the output must show the
server's own text.
"""

from __future__ import annotations

import contextlib
import select
from collections.abc import Callable
from typing import TYPE_CHECKING

import psycopg
from psycopg import pq

from concord.errors import DatabaseUnavailable
from concord.spec.output import format_error, format_result

if TYPE_CHECKING:
    from concord.spec.transcript import StepRecord

_POLL_S = 0.01  # isolationtester checks for lock waits every 10 ms


class SpecConnection:
    """One of isolationtester's connections: the control connection or a session's."""

    def __init__(
        self, conninfo: str, name: str, on_notice: Callable[[SpecConnection, str], None] | None
    ) -> None:
        self.name = name
        self.pg = pq.PGconn.connect(conninfo.encode())
        if self.pg.status != pq.ConnStatus.OK:
            message = _text(self.pg.error_message).strip()
            self.pg.finish()
            raise DatabaseUnavailable(f"connection for {name} failed: {message}")
        self.pid = self.pg.backend_pid
        self.notices = 0
        self.active: object | None = None  # the launched step this connection is busy with
        self.record: StepRecord | None = None

        def handler(result: pq.abc.PGresult) -> None:
            # The control connection hides its notices, as isolationtester's "blackhole" processor does.
            if on_notice is not None:
                on_notice(self, _text(result.error_message))

        self.pg.notice_handler = handler

    def execute(self, sql: str) -> tuple[str | None, str]:
        """Run a setup or teardown block; return (error message or None, result tables printed)."""
        result = self.pg.exec_(sql.encode())
        if result.status == pq.ExecStatus.TUPLES_OK:
            return None, format_result(*table(result))
        if result.status != pq.ExecStatus.COMMAND_OK:
            return _text(self.pg.error_message), ""
        return None, ""

    def send(self, sql: str) -> str | None:
        """Start a step; the libpq error message if it could not be sent."""
        try:
            self.pg.send_query(sql.encode())
        except psycopg.OperationalError:
            return _text(self.pg.error_message)
        return None

    def wait_readable(self) -> bool:
        """Wait up to 10 ms for data from the server; True if some arrived."""
        readable, _, _ = select.select([self.pg.socket], [], [], _POLL_S)
        return bool(readable)

    def is_busy(self) -> bool:
        return bool(self.pg.is_busy())

    def consume_input(self) -> None:
        self.pg.consume_input()

    def cancel(self) -> bool:
        try:
            self.pg.get_cancel().cancel()
        except Exception:
            return False
        return True

    def results(self) -> list[pq.abc.PGresult]:
        """Every result of the finished step (one per statement, up to the first error)."""
        results = []
        while (result := self.pg.get_result()) is not None:
            results.append(result)
        return results

    def notifies(self) -> list[pq.PGnotify]:
        """NOTIFY messages that arrived; a connection that just broke has none (isolationtester
        ignores this PQconsumeInput's failure, and so reports the broken step and goes on)."""
        found: list[pq.PGnotify] = []
        with contextlib.suppress(psycopg.OperationalError):
            self.pg.consume_input()
            while (notify := self.pg.notifies()) is not None:
                found.append(notify)
                self.pg.consume_input()
        return found

    def close(self) -> None:
        self.pg.finish()


def table(result: pq.abc.PGresult) -> tuple[list[str], list[list[str | None]]]:
    """A result's column names and its values as the server's text."""
    columns = [_text(result.fname(index) or b"") for index in range(result.nfields)]
    rows = [
        [
            None if (value := result.get_value(row, col)) is None else _text(value)
            for col in range(result.nfields)
        ]
        for row in range(result.ntuples)
    ]
    return columns, rows


def describe(result: pq.abc.PGresult) -> tuple[str, dict[str, str | None] | None]:
    """What isolationtester prints for one result of a step, and the error it holds, if any."""
    status = result.status
    if status in (pq.ExecStatus.COMMAND_OK, pq.ExecStatus.EMPTY_QUERY):
        return "", None
    if status == pq.ExecStatus.TUPLES_OK:
        return format_result(*table(result)), None
    if status == pq.ExecStatus.FATAL_ERROR:
        severity = _field(result, pq.DiagnosticField.SEVERITY)
        primary = _field(result, pq.DiagnosticField.MESSAGE_PRIMARY)
        error = {
            "severity": severity,
            "sqlstate": _field(result, pq.DiagnosticField.SQLSTATE),
            "message": primary,
        }
        return format_error(severity, primary, _text(result.error_message)), error
    return f"unexpected result status: PGRES_{pq.ExecStatus(status).name}\n", None


def _field(result: pq.abc.PGresult, field: pq.DiagnosticField) -> str | None:
    value = result.error_field(field)
    return None if value is None else _text(value)


def _text(value: bytes) -> str:
    return value.decode("utf-8", "surrogateescape")
