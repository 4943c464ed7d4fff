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
- `AsyncLibpqSession` (asyncio) sends with ``PQsendQueryPrepared`` on a non-blocking connection;
  its reader stays registered with the event loop for the session's life (no ``epoll_ctl`` per
  statement) and hands each complete result to the callback the command was sent with.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg import postgres, pq
from psycopg.abc import Buffer
from psycopg.errors import error_from_result

from concord.race.program import Fetch, Sql

_OK = frozenset({int(pq.ExecStatus.COMMAND_OK), int(pq.ExecStatus.TUPLES_OK)})
#: Enum members are module constants here: reading ``Fetch.ROW`` goes through the enum's
#: descriptor (80 ns on CPython 3.11), a global does not, and these are read on every step.
_SCALAR, _ROWCOUNT, _NOTHING = Fetch.SCALAR, Fetch.ROWCOUNT, Fetch.NOTHING
#: BEGIN and COMMIT are prepared statements too, as pgbench -M prepared runs them.
_BEGIN, _COMMIT = b"concord_begin", b"concord_commit"
_TRANSACTION_CONTROL = ((_BEGIN, b"BEGIN"), (_COMMIT, b"COMMIT"))
#: A transaction is open (libpq's own view): only then does a failed attempt need a ROLLBACK.
#: After a failed COMMIT, or between transactions, there is none, and a ROLLBACK would only draw
#: the server's "there is no transaction in progress" warning and count a transaction of its own.
_OPEN = frozenset({pq.TransactionStatus.INTRANS, pq.TransactionStatus.INERROR})
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

    def _flush_commands(self) -> list[tuple[bytes, None]]:
        """Last of the set-up: hand the session's statistics to the server now (PostgreSQL 15+
        flushes a backend's counts at most once a second otherwise), so the set-up's own
        transactions count before a cell's pg_stat_database reading, not during the race."""
        return (
            [(b"SELECT pg_stat_force_next_flush()", None)] if self.conn.info.server_version >= 150000 else []
        )

    def in_transaction(self) -> bool:
        """Whether a transaction is open on the connection (libpq's transaction status)."""
        return self.pgconn.transaction_status in _OPEN

    def _new_plan(self, sql: Sql) -> Plan:
        return Plan(f"concord_{len(self.plans)}".encode(), sql)

    def _value(self, plan: Plan, result: pq.abc.PGresult) -> Any:
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

    def _loaders(self, plan: Plan, result: pq.abc.PGresult) -> tuple[Any, ...]:
        adapters = self.conn.adapters
        loads: list[Callable[[Buffer], Any]] = []
        for column in range(result.nfields):
            oid = result.ftype(column)
            if oid in _INTEGERS:
                loads.append(int)
            else:
                # A type psycopg has no loader for loads as text, psycopg's own fallback (oid 0).
                loader = adapters.get_loader(oid, pq.Format.TEXT) or adapters.get_loader(0, pq.Format.TEXT)
                assert loader is not None  # psycopg always registers the text loader of oid 0
                loads.append(loader(oid, self.conn).load)
        plan.loads = tuple(loads)
        return plan.loads

    def failure(self, result: pq.abc.PGresult | None, error: BaseException | None) -> BaseException | None:
        """What went wrong with a delivered command, or None: the broken connection, a missing
        result, or the server's own error."""
        if error is not None:
            return error
        if result is None:
            return psycopg.OperationalError("the server sent no result")
        if result.status not in _OK:
            return error_from_result(result, encoding=self.encoding)
        return None

    def _check(self, result: pq.abc.PGresult | None) -> pq.abc.PGresult:
        error = self.failure(result, None)
        if error is not None:
            raise error
        assert result is not None
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
        for command, _ in self._flush_commands():
            self._command(command)

    def begin(self) -> None:
        self._check(self.pgconn.exec_prepared(_BEGIN, None))

    def commit(self) -> None:
        self._check(self.pgconn.exec_prepared(_COMMIT, None))

    def rollback(self) -> None:
        """Roll back the open transaction; nothing when none is open (see `_OPEN`)."""
        if self.in_transaction():
            self._command(b"ROLLBACK")

    def execute(self, sql: Sql, params: dict[str, Any]) -> Any:
        """Run one step; return what its ``fetch`` asks for."""
        plan = self.plans.get(sql.text) or self._prepare(sql)
        # psycopg's PGconn protocol says Sequence[Buffer] here (send_query_prepared: Buffer | None);
        # both libpq wrappers send None as NULL.
        result = self.pgconn.exec_prepared(plan.name, plan.args(params))  # type: ignore[arg-type]
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


#: What an `AsyncLibpqSession` hands to the callback waiting for a command: the command's last
#: result (an error result too: the callback checks it), or the exception that broke the
#: connection.
Delivery = Callable[[pq.abc.PGresult | None, BaseException | None], None]


class AsyncLibpqSession(_Statements):
    """`LibpqSession` on an event loop: the same statements, sent without blocking the loop.

    The socket's reader stays registered for the session's life (no ``epoll_ctl`` per
    statement). Each command is sent with a callback (`send_prepared`, `send_prepare`,
    `send_command`) that the reader calls with the command's result once it is complete, so a
    worker can chain its statements as plain callbacks, with no task switch per statement
    (`concord.race.worker_async`). `result` awaits the same delivery, for set-up and clean-up.

    The reader watches a duplicate of the socket's descriptor that the session owns, not libpq's
    own: when libpq reads the end of a connection the server closed, it closes its descriptor at
    once, behind the event loop's back, and libuv (uvloop) must not have a descriptor closed while
    it watches it. The duplicate stays open until `close` has taken it off the loop.

    A reader may not be called again once the socket reports an error: libuv stops watching a
    socket that reports one (EPOLLERR, as a reset does) after at most one more call of the reader
    (seen with uvloop 0.23 on libuv 1.52; asyncio's own loop keeps calling). So when a reply is
    incomplete after a read, the reader looks (a non-blocking peek) for more to read at once, the
    end of the connection included, instead of waiting for a call that may never come. That
    happens when the server ends a session (``pg_terminate_backend``, a shutdown): its FATAL error
    arrives with, or just before, the reset, and without this look the worker waited for a reply
    forever.

    Open it with `AsyncLibpqSession.open` and `close` it before closing the connection (the
    socket's reader must leave the event loop first).
    """

    def __init__(self, conn: psycopg.AsyncConnection) -> None:
        super().__init__(conn)
        self.pgconn.nonblocking = 1
        self.loop = asyncio.get_running_loop()
        self.sock = socket.socket(fileno=os.dup(self.pgconn.socket))
        self.sock.setblocking(False)
        self.fd = self.sock.fileno()
        self._then: Delivery | None = None
        self._last: pq.abc.PGresult | None = None
        try:
            self.loop.add_reader(self.fd, self._readable)
        except BaseException:
            self.sock.close()
            raise

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
                session._check(await session.result())
            for name, command in _TRANSACTION_CONTROL:
                session.pgconn.send_prepare(name, command)
                session._check(await session.result())
            for command, _ in session._flush_commands():
                session.pgconn.send_query(command)
                session._check(await session.result())
        except BaseException:
            session.close()
            raise
        return session

    def send_begin(self, then: Delivery) -> None:
        self._send(then)
        self.pgconn.send_query_prepared(_BEGIN, None)
        self._flush()

    def send_commit(self, then: Delivery) -> None:
        self._send(then)
        self.pgconn.send_query_prepared(_COMMIT, None)
        self._flush()

    def send_command(self, command: bytes, then: Delivery) -> None:
        """A simple-protocol command (``ROLLBACK``)."""
        self._send(then)
        self.pgconn.send_query(command)
        self._flush()

    def send_prepared(self, plan: Plan, params: dict[str, Any], then: Delivery) -> None:
        """Run a prepared step; ``then`` gets its result (load it with `value`)."""
        self._send(then)
        self.pgconn.send_query_prepared(plan.name, plan.args(params))
        self._flush()

    def send_prepare(self, sql: Sql, then: Callable[[Plan | None, BaseException | None], None]) -> None:
        """Prepare ``sql`` on this connection; ``then`` gets its plan, or what went wrong."""
        plan = self._new_plan(sql)

        def prepared(result: pq.abc.PGresult | None, error: BaseException | None) -> None:
            error = self.failure(result, error)
            if error is not None:
                then(None, error)
                return
            self.plans[sql.text] = plan
            then(plan, None)

        self._send(prepared)
        self.pgconn.send_prepare(plan.name, sql.numbered)
        self._flush()

    def value(self, plan: Plan, result: pq.abc.PGresult) -> Any:
        """What a step's ``fetch`` asks for, from a result `failure` found nothing wrong with."""
        return self._value(plan, result)

    async def result(self) -> pq.abc.PGresult | None:
        """Wait for the command just sent; its last result (raises if the connection broke)."""
        done: asyncio.Future[pq.abc.PGresult | None] = self.loop.create_future()

        def deliver(result: pq.abc.PGresult | None, error: BaseException | None) -> None:
            if done.done():
                return
            if error is not None:
                done.set_exception(error)
            else:
                done.set_result(result)

        self._then = deliver
        self._drain()  # it may all have arrived already
        return await done

    async def rollback(self) -> None:
        """Roll back the open transaction; nothing when none is open."""
        if not self.in_transaction():
            return
        self._send(None)
        self.pgconn.send_query(b"ROLLBACK")
        self._flush()
        self._check(await self.result())

    def close(self) -> None:
        """Take the socket off the event loop and close the session's descriptor (before the
        connection closes); a second call does nothing."""
        if self.fd < 0:
            return
        fd, self.fd = self.fd, -1
        self.loop.remove_reader(fd)
        self.loop.remove_writer(fd)
        self.sock.close()

    def _send(self, then: Delivery | None) -> None:
        self._then, self._last = then, None

    def _flush(self) -> None:
        if self.pgconn.flush() and self.fd >= 0:  # the send buffer is full: finish when it drains
            self.loop.add_writer(self.fd, self._writable)

    def _writable(self) -> None:
        try:
            if self.pgconn.flush():
                return
        except psycopg.Error as exc:
            self._deliver(None, exc)
        if self.fd >= 0:  # the delivery may have closed the session
            self.loop.remove_writer(self.fd)

    def _readable(self) -> None:
        while True:
            try:
                self.pgconn.consume_input()
            except psycopg.Error as exc:  # the connection is gone
                if self._then is None:
                    self.close()  # the next command reports it
                else:
                    self._deliver(*self._last_words(exc))
                return
            # With nobody waiting (a notice, or the server closing the connection, arrived between
            # statements) the input is consumed all the same, or the level-triggered reader would
            # fire again at once.
            if self._drain() or not self._more_to_read():
                return

    def _more_to_read(self) -> bool:
        """Whether the socket has more for libpq now: data, the end of the connection, or an
        error (a reset). Asked only when a reply is incomplete after a read, which is rare."""
        try:
            self.sock.recv(1, socket.MSG_PEEK)
        except BlockingIOError:
            return False
        except OSError:  # reset: libpq's next read reports it
            return True
        return True  # data, or b"" at the end of the connection

    def _drain(self) -> bool:
        """Deliver the command's result if all of it has arrived; whether it did."""
        if self._then is None:
            return False
        pgconn = self.pgconn
        try:
            while not pgconn.is_busy():
                result = pgconn.get_result()
                if result is None:  # the command is complete
                    self._deliver(self._last, None)
                    return True
                self._last = result
        except psycopg.Error as exc:
            self._deliver(None, exc)
            return True
        return False

    def _last_words(self, exc: psycopg.Error) -> tuple[pq.abc.PGresult | None, BaseException | None]:
        """After the connection broke: the server's own error if it sent one (57P01 when its
        session was terminated), as the blocking session reports it; else what libpq saw."""
        pgconn, said = self.pgconn, [self._last]  # the error may have been read before the close
        try:
            while not pgconn.is_busy():
                result = pgconn.get_result()
                if result is None:
                    break
                said.append(result)  # libpq adds its own "server closed the connection" last
        except psycopg.Error:
            pass
        for result in said:
            if result is not None and result.error_field(pq.DiagnosticField.SQLSTATE):
                return result, None
        return None, exc

    def _deliver(self, result: pq.abc.PGresult | None, error: BaseException | None) -> None:
        then, self._then, self._last = self._then, None, None
        if then is not None:
            then(result, error)


def _encode(value: Any) -> bytes | None:
    if value is None:
        return None
    if value is True or value is False:
        return b"t" if value else b"f"
    return str(value).encode()
