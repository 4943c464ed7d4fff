"""The workers' hot path: statements prepared once per connection, run through libpq.

psycopg's cursor does a lot of (useful) Python work per ``execute``; for a worker that runs the
same handful of statements thousands of times, that work is client CPU taken from the server
on the same machine. Here each statement is prepared once per connection and run as a prepared
statement on psycopg's own libpq connection object, parameters sent as text and results loaded
with psycopg's loaders. The isolation level is set once for the session (``SET SESSION
CHARACTERISTICS``), so each transaction starts with a bare ``BEGIN``, as in pgbench's
``BEGIN; ...; COMMIT;``.

Two sessions share that logic:

- `LibpqSession` (threads, processes) blocks in ``PQexecPrepared``; the GIL is released while
  libpq waits for the server, so threads still overlap.
- `AsyncLibpqSession` (asyncio) sends with ``PQsendQueryPrepared`` on a non-blocking connection
  and awaits the socket: its reader stays registered with the event loop for the session's life
  (no ``epoll_ctl`` per statement), and wakes the one statement waiting on it.
"""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg
from psycopg import pq
from psycopg.errors import error_from_result

from concord.race.program import Fetch, Sql

_OK = (pq.ExecStatus.COMMAND_OK, pq.ExecStatus.TUPLES_OK)


class _Statements:
    """Prepared-statement names, parameter encoding and result loading, for either session."""

    def __init__(self, conn: psycopg.Connection | psycopg.AsyncConnection) -> None:
        if not conn.autocommit:
            raise ValueError("the libpq session issues its own BEGIN/COMMIT: use an autocommit connection")
        self.conn = conn
        self.pgconn = conn.pgconn
        self.encoding = conn.info.encoding
        self.prepared: dict[str, bytes] = {}
        self.loaders: dict[int, Any] = {}

    def _setup_commands(
        self, isolation: str, settings: tuple[tuple[str, str], ...]
    ) -> list[tuple[bytes, list[bytes | None] | None]]:
        """The session's set-up: its isolation level and settings (lock_timeout, ...), once."""
        level = isolation.upper().encode()
        commands: list[tuple[bytes, list[bytes | None] | None]] = [
            (b"SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL " + level, None)
        ]
        for name, value in settings:
            commands.append((b"SELECT set_config($1, $2, false)", [name.encode(), value.encode()]))
        return commands

    def _new_name(self) -> bytes:
        return f"concord_{len(self.prepared)}".encode()

    def _params(self, sql: Sql, params: dict[str, Any]) -> list[bytes | None]:
        bound = sql.bind(params)
        return [_encode(bound[n]) for n in sql.names]

    def _value(self, sql: Sql, result: pq.PGresult) -> Any:
        """What the step's ``fetch`` asks for, from a checked result."""
        fetch = sql.fetch
        if fetch is Fetch.ROWCOUNT:
            return int(result.command_tuples or 0)
        if fetch is Fetch.NOTHING or result.ntuples == 0:
            return None
        row = tuple(self._load(result, column) for column in range(result.nfields))
        return row[0] if fetch is Fetch.SCALAR else row

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

    def _check(self, result: pq.PGresult | None) -> pq.PGresult:
        if result is None:
            raise psycopg.OperationalError("the server sent no result")
        if result.status not in _OK:
            raise error_from_result(result, encoding=self.encoding)
        return result


class LibpqSession(_Statements):
    """One worker's blocking connection driven through libpq: begin, execute prepared steps, commit."""

    def __init__(
        self, conn: psycopg.Connection, isolation: str, settings: tuple[tuple[str, str], ...] = ()
    ) -> None:
        super().__init__(conn)
        for command, params in self._setup_commands(isolation, settings):
            if params is None:
                self._command(command)
            else:
                self._check(self.pgconn.exec_params(command, params))

    def begin(self) -> None:
        self._command(b"BEGIN")

    def commit(self) -> None:
        self._command(b"COMMIT")

    def rollback(self) -> None:
        self._command(b"ROLLBACK")

    def execute(self, sql: Sql, params: dict[str, Any]) -> Any:
        """Run one step; return what its ``fetch`` asks for."""
        name = self.prepared.get(sql.text) or self._prepare(sql)
        result = self._check(self.pgconn.exec_prepared(name, self._params(sql, params)))
        return self._value(sql, result)

    def _prepare(self, sql: Sql) -> bytes:
        name = self._new_name()
        self._check(self.pgconn.prepare(name, sql.numbered))
        self.prepared[sql.text] = name
        return name

    def _command(self, command: bytes) -> None:
        self._check(self.pgconn.exec_(command))


class AsyncLibpqSession(_Statements):
    """`LibpqSession` for one asyncio task: the same statements, sent without blocking the loop.

    Open it with `AsyncLibpqSession.open` and `close` it before closing the connection (the
    socket's reader must leave the event loop first).
    """

    def __init__(self, conn: psycopg.AsyncConnection) -> None:
        super().__init__(conn)
        self.pgconn.nonblocking = 1
        self.loop = asyncio.get_running_loop()
        self.fd = self.pgconn.socket
        self._waiter: asyncio.Future[None] | None = None
        self.loop.add_reader(self.fd, self._readable)

    @classmethod
    async def open(
        cls, conn: psycopg.AsyncConnection, isolation: str, settings: tuple[tuple[str, str], ...] = ()
    ) -> AsyncLibpqSession:
        session = cls(conn)
        try:
            for command, params in session._setup_commands(isolation, settings):
                if params is None:
                    session.pgconn.send_query(command)
                else:
                    session.pgconn.send_query_params(command, params)
                session._check(await session._result())
        except BaseException:
            session.close()
            raise
        return session

    async def begin(self) -> None:
        await self._command(b"BEGIN")

    async def commit(self) -> None:
        await self._command(b"COMMIT")

    async def rollback(self) -> None:
        await self._command(b"ROLLBACK")

    async def execute(self, sql: Sql, params: dict[str, Any]) -> Any:
        """Run one step; return what its ``fetch`` asks for."""
        name = self.prepared.get(sql.text) or await self._prepare(sql)
        self.pgconn.send_query_prepared(name, self._params(sql, params))
        return self._value(sql, self._check(await self._result()))

    def close(self) -> None:
        """Take the socket's reader off the event loop (before the connection closes)."""
        self.loop.remove_reader(self.fd)

    async def _prepare(self, sql: Sql) -> bytes:
        name = self._new_name()
        self.pgconn.send_prepare(name, sql.numbered)
        self._check(await self._result())
        self.prepared[sql.text] = name
        return name

    async def _command(self, command: bytes) -> None:
        self.pgconn.send_query(command)
        self._check(await self._result())

    async def _result(self) -> pq.PGresult | None:
        """Flush what was sent, wait for the server, return the last result of the command."""
        pgconn = self.pgconn
        while pgconn.flush():  # only when the socket's send buffer is full
            await asyncio.sleep(0)
        last = None
        while True:
            pgconn.consume_input()
            while pgconn.is_busy():
                self._waiter = self.loop.create_future()
                try:
                    await self._waiter
                finally:
                    self._waiter = None
                pgconn.consume_input()
            result = pgconn.get_result()
            if result is None:
                return last
            last = result

    def _readable(self) -> None:
        waiter = self._waiter
        if waiter is not None:
            if not waiter.done():
                waiter.set_result(None)
            return
        # Nobody is waiting (a notice, or the server closing the connection, arrived between
        # statements): absorb it, or the level-triggered reader would fire again at once.
        try:
            self.pgconn.consume_input()
        except psycopg.Error:  # the connection is gone: the next statement reports it
            self.close()


def _encode(value: Any) -> bytes | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return b"t" if value else b"f"
    return str(value).encode()
