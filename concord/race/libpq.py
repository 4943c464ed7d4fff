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
from psycopg import postgres, pq
from psycopg.errors import error_from_result

from concord.race.program import Fetch, Sql

_OK = frozenset({int(pq.ExecStatus.COMMAND_OK), int(pq.ExecStatus.TUPLES_OK)})
#: Enum members are module constants here: reading ``Fetch.ROW`` goes through the enum's
#: descriptor (80 ns on CPython 3.11), a global does not, and these are read on every step.
_SCALAR, _ROWCOUNT, _NOTHING = Fetch.SCALAR, Fetch.ROWCOUNT, Fetch.NOTHING
#: BEGIN and COMMIT are prepared statements too, as pgbench -M prepared runs them.
_BEGIN, _COMMIT = b"concord_begin", b"concord_commit"
_TRANSACTION_CONTROL = ((_BEGIN, b"BEGIN"), (_COMMIT, b"COMMIT"))
#: Integer columns load with ``int`` itself (their text form is plain decimal): a builtin call
#: instead of a loader object's method, on every row a step reads.
_INTEGERS = frozenset(postgres.types[name].oid for name in ("int2", "int4", "int8"))


class Plan:
    """One prepared statement of a session, with what running it repeatedly needs hoisted.

    The parameters' constants (``Sql.defaults``) are encoded once, and the result's loaders are
    looked up on the first result (a prepared statement's columns never change), so a step costs
    a dictionary lookup, the encoding of its variable parameters and libpq's own call.
    """

    __slots__ = ("constants", "fetch", "loads", "name", "names")

    def __init__(self, name: bytes, sql: Sql) -> None:
        self.name = name
        self.names = sql.names
        self.constants = {k: _encode(v) for k, v in sql.defaults.items()}
        self.fetch = sql.fetch
        self.loads: tuple[Any, ...] | None = None  # the columns' loader functions, once known

    def args(self, params: dict[str, Any]) -> list[bytes | None]:
        """The statement's parameters as text, in ``$n`` order: ``params`` win over constants.

        A plain loop with integers encoded inline: this runs for every statement of every
        transaction, and a comprehension calling `_encode` costs twice as much.
        """
        out: list[bytes | None] = []
        constants = self.constants
        for name in self.names:
            if name in params:
                value = params[name]
                out.append(str(value).encode() if type(value) is int else _encode(value))
            else:
                out.append(constants[name])
        return out


class _Statements:
    """Prepared-statement plans, parameter encoding and result loading, for either session."""

    def __init__(self, conn: psycopg.Connection | psycopg.AsyncConnection) -> None:
        if not conn.autocommit:
            raise ValueError("the libpq session issues its own BEGIN/COMMIT: use an autocommit connection")
        self.conn = conn
        self.pgconn = conn.pgconn
        self.encoding = conn.info.encoding
        self.plans: dict[str, Plan] = {}

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

    def _new_plan(self, sql: Sql) -> Plan:
        return Plan(f"concord_{len(self.plans)}".encode(), sql)

    def _value(self, plan: Plan, result: pq.PGresult) -> Any:
        """What the step's ``fetch`` asks for, from a checked result."""
        fetch = plan.fetch
        if fetch is _ROWCOUNT:
            return result.command_tuples or 0
        if fetch is _NOTHING or result.ntuples == 0:
            return None
        loads = plan.loads or self._loaders(plan, result)
        get = result.get_value
        if fetch is _SCALAR:
            value = get(0, 0)
            return None if value is None else loads[0](value)
        row = []
        for column, load in enumerate(loads):
            value = get(0, column)
            row.append(None if value is None else load(value))
        return tuple(row)

    def _loaders(self, plan: Plan, result: pq.PGresult) -> tuple[Any, ...]:
        adapters = self.conn.adapters
        loads = []
        for column in range(result.nfields):
            oid = result.ftype(column)
            if oid in _INTEGERS:
                loads.append(int)
            else:
                loads.append(adapters.get_loader(oid, pq.Format.TEXT)(oid, self.conn).load)
        plan.loads = tuple(loads)
        return plan.loads

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
        for name, command in _TRANSACTION_CONTROL:
            self._check(self.pgconn.prepare(name, command))

    def begin(self) -> None:
        self._check(self.pgconn.exec_prepared(_BEGIN, None))

    def commit(self) -> None:
        self._check(self.pgconn.exec_prepared(_COMMIT, None))

    def rollback(self) -> None:
        self._command(b"ROLLBACK")

    def execute(self, sql: Sql, params: dict[str, Any]) -> Any:
        """Run one step; return what its ``fetch`` asks for."""
        plan = self.plans.get(sql.text) or self._prepare(sql)
        result = self.pgconn.exec_prepared(plan.name, plan.args(params))
        if result.status not in _OK:
            raise error_from_result(result, encoding=self.encoding)
        return self._value(plan, result)

    def _prepare(self, sql: Sql) -> Plan:
        plan = self._new_plan(sql)
        self._check(self.pgconn.prepare(plan.name, sql.numbered))
        self.plans[sql.text] = plan
        return plan

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
            for name, command in _TRANSACTION_CONTROL:
                session.pgconn.send_prepare(name, command)
                session._check(await session._result())
        except BaseException:
            session.close()
            raise
        return session

    async def begin(self) -> None:
        self.pgconn.send_query_prepared(_BEGIN, None)
        self._check(await self._result())

    async def commit(self) -> None:
        self.pgconn.send_query_prepared(_COMMIT, None)
        self._check(await self._result())

    async def rollback(self) -> None:
        await self._command(b"ROLLBACK")

    async def execute(self, sql: Sql, params: dict[str, Any]) -> Any:
        """Run one step; return what its ``fetch`` asks for."""
        plan = self.plans.get(sql.text) or await self._prepare(sql)
        self.pgconn.send_query_prepared(plan.name, plan.args(params))
        return self._value(plan, self._check(await self._result()))

    def close(self) -> None:
        """Take the socket's reader off the event loop (before the connection closes)."""
        self.loop.remove_reader(self.fd)

    async def _prepare(self, sql: Sql) -> Plan:
        plan = self._new_plan(sql)
        self.pgconn.send_prepare(plan.name, sql.numbered)
        self._check(await self._result())
        self.plans[sql.text] = plan
        return plan

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
    if value is True or value is False:
        return b"t" if value else b"f"
    return str(value).encode()
