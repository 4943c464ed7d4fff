"""`AsyncLibpqSession`: the workers' prepared statements sent without blocking an event loop.

The asyncio executor's half of `concord.race.libpq` (which holds the shared statement plans,
parameter encoding and result loading, and the blocking `LibpqSession`).
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg import pq

from concord.race.libpq import BEGIN, COMMIT, TRANSACTION_CONTROL, Statements
from concord.race.plans import Plan
from concord.race.steps import Sql

#: What an `AsyncLibpqSession` hands to the callback waiting for a command: the command's last
#: result (an error result too: the callback checks it), or the exception that broke the
#: connection.
Delivery = Callable[[pq.abc.PGresult | None, BaseException | None], None]


class AsyncLibpqSession(Statements):
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
            for name, command in TRANSACTION_CONTROL:
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
        self.pgconn.send_query_prepared(BEGIN, None)
        self._flush()

    def send_commit(self, then: Delivery) -> None:
        self._send(then)
        self.pgconn.send_query_prepared(COMMIT, None)
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
        return plan.load(result)

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
