"""The sync workers' hot path: statements prepared once per connection, run through libpq.

psycopg's cursor does a lot of (useful) Python work per ``execute``; for a worker that runs the
same handful of statements thousands of times, that work is client CPU taken from the server
on the same machine. Here each statement is prepared once per connection (``PQprepare``) and
run with ``PQexecPrepared`` on psycopg's own libpq connection object, parameters sent as text
and results loaded with psycopg's loaders. The GIL is released while libpq waits for the
server, so threads still overlap. The isolation level is set once for the session
(``SET SESSION CHARACTERISTICS``), so each transaction starts with a bare ``BEGIN``, as in
pgbench's ``BEGIN; ...; COMMIT;``.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import pq
from psycopg.errors import error_from_result

from concord.race.program import Fetch, Sql

_OK = (pq.ExecStatus.COMMAND_OK, pq.ExecStatus.TUPLES_OK)


class LibpqSession:
    """One worker's connection driven through libpq: begin, execute prepared steps, commit."""

    def __init__(
        self, conn: psycopg.Connection, isolation: str, settings: tuple[tuple[str, str], ...] = ()
    ) -> None:
        if not conn.autocommit:
            raise ValueError("the libpq session issues its own BEGIN/COMMIT: use an autocommit connection")
        self.conn = conn
        self.pgconn = conn.pgconn
        self.encoding = conn.info.encoding
        self.prepared: dict[str, bytes] = {}
        self.loaders: dict[int, Any] = {}
        level = isolation.upper().encode()
        self._command(b"SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL " + level)
        for name, value in settings:  # once per session, like the isolation level
            self._check(
                self.pgconn.exec_params(b"SELECT set_config($1, $2, false)", [name.encode(), value.encode()])
            )

    def begin(self) -> None:
        self._command(b"BEGIN")

    def commit(self) -> None:
        self._command(b"COMMIT")

    def rollback(self) -> None:
        self._command(b"ROLLBACK")

    def execute(self, sql: Sql, params: dict[str, Any]) -> Any:
        """Run one step; return what its ``fetch`` asks for."""
        name = self.prepared.get(sql.text) or self._prepare(sql)
        bound = sql.bind(params)
        result = self.pgconn.exec_prepared(name, [_encode(bound[n]) for n in sql.names])
        self._check(result)
        fetch = sql.fetch
        if fetch is Fetch.ROWCOUNT:
            return int(result.command_tuples or 0)
        if fetch is Fetch.NOTHING:
            return None
        if result.ntuples == 0:
            return None
        row = tuple(self._load(result, column) for column in range(result.nfields))
        return row[0] if fetch is Fetch.SCALAR else row

    def _prepare(self, sql: Sql) -> bytes:
        name = f"concord_{len(self.prepared)}".encode()
        self._check(self.pgconn.prepare(name, sql.numbered))
        self.prepared[sql.text] = name
        return name

    def _load(self, result: pq.PGresult, column: int) -> Any:
        value = result.get_value(0, column)
        if value is None:
            return None
        oid = result.ftype(column)
        loader = self.loaders.get(oid)
        if loader is None:
            loader = self.conn.adapters.get_loader(oid, pq.Format.TEXT)(oid, self.conn)
            self.loaders[oid] = loader
        return loader.load(value)

    def _command(self, command: bytes) -> None:
        self._check(self.pgconn.exec_(command))

    def _check(self, result: pq.PGresult) -> None:
        if result.status not in _OK:
            raise error_from_result(result, encoding=self.encoding)


def _encode(value: Any) -> bytes | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return b"t" if value else b"f"
    return str(value).encode()
