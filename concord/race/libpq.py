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
- `AsyncLibpqSession` (asyncio, in `concord.race.libpq_async`) sends with
  ``PQsendQueryPrepared`` on a non-blocking connection; its reader stays registered with the
  event loop for the session's life (no ``epoll_ctl`` per statement) and hands each complete
  result to the callback the command was sent with.

The blocking half was measured against psycopg's own prepared path (``cursor.execute(...,
prepare=True)``) on the same worker loop: psycopg's path had 0.84 / 0.90 / 0.89 of this one's
throughput at 1 / 8 / 50 workers (`benchmarks/ab_driver.py`, figures in benchmarks/README.md).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
from psycopg import postgres, pq
from psycopg.abc import Buffer
from psycopg.errors import error_from_result

from concord.race.plans import Plan
from concord.race.steps import Operation, Outcome, Sql, finish

_OK = frozenset({int(pq.ExecStatus.COMMAND_OK), int(pq.ExecStatus.TUPLES_OK)})
#: BEGIN and COMMIT are prepared statements too, as pgbench -M prepared runs them.
BEGIN, COMMIT = b"concord_begin", b"concord_commit"
TRANSACTION_CONTROL = ((BEGIN, b"BEGIN"), (COMMIT, b"COMMIT"))
#: A transaction is open (libpq's own view): only then does a failed attempt need a ROLLBACK.
#: After a failed COMMIT, or between transactions, there is none, and a ROLLBACK would only draw
#: the server's "there is no transaction in progress" warning and count a transaction of its own.
_OPEN = frozenset({pq.TransactionStatus.INTRANS, pq.TransactionStatus.INERROR})
#: Integer columns load with ``int`` itself (their text form is plain decimal): a builtin call
#: instead of a loader object's method, on every row a step reads.
_INTEGERS = frozenset(postgres.types[name].oid for name in ("int2", "int4", "int8"))


class Statements:
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
        return Plan(f"concord_{len(self.plans)}".encode(), sql, self._loaders)

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


class LibpqSession(Statements):
    """One worker's blocking connection driven through libpq: begin, execute prepared steps, commit."""

    def __init__(
        self, conn: psycopg.Connection, isolation: str, settings: tuple[tuple[str, str], ...] = ()
    ) -> None:
        super().__init__(conn)
        self._run = self.pgconn.exec_prepared  # bound once: read by every statement
        for command, params in self._setup_commands(isolation, settings):
            if params is None:
                self._command(command)
            else:
                self._check(self.pgconn.exec_params(command, params))
        for name, command in TRANSACTION_CONTROL:
            self._check(self.pgconn.prepare(name, command))
        for command, _ in self._flush_commands():
            self._command(command)

    def begin(self) -> None:
        result = self.pgconn.exec_prepared(BEGIN, None)  # psycopg raises when libpq returns none
        if result.status not in _OK:  # `_check`, inlined: this runs once per transaction
            raise error_from_result(result, encoding=self.encoding)

    def commit(self) -> None:
        result = self.pgconn.exec_prepared(COMMIT, None)
        if result.status not in _OK:
            raise error_from_result(result, encoding=self.encoding)

    def transaction(self, operation: Operation, first_step_early: bool = False) -> Outcome:
        """``BEGIN``, every step of ``operation``, ``COMMIT``; the operation's outcome.

        `begin`, `drive` over `execute`, and `commit` in one frame, with what they look up
        bound once per session: this is the blocking workers' whole transaction, and each
        Python call it saves is client CPU taken from the server on the same cores.

        With ``first_step_early`` (a program whose generator reaches its first step without
        touching the server, `Program.first_step_offline`), that step is made and its
        parameters encoded before ``BEGIN`` is sent, so the first statement follows ``BEGIN``'s
        answer at once: a backend kept waiting a few microseconds between statements costs
        several times that where idle CPUs sleep (benchmarks/README.md, "the gaps between
        statements"). A statement not yet prepared is prepared after ``BEGIN``: outside a
        transaction block the server counts a Parse as a transaction of its own, one more commit
        in pg_stat_database than the workers made. A ``final`` step (`Sql.final`) is the mirror
        image: ``COMMIT`` follows its answer at once, and the operation gets the answer after.
        An error leaves the transaction open (or ended by a failed COMMIT) for the caller to roll
        back.
        """
        run, plans, encoding = self._run, self.plans, self.encoding
        if not first_step_early:
            result = run(BEGIN, None)
            if result.status not in _OK:
                raise error_from_result(result, encoding=encoding)
        send = operation.send
        plan: Plan | None = None
        try:
            sql, params = next(operation)
        except StopIteration as done:  # no step at all: still a transaction, as it always was
            outcome: Outcome = done.value
            stepping = False
        else:
            stepping = True
            plan = plans.get(sql.text)
            if plan is not None:
                steps = plan.args(params)
        if first_step_early:
            result = run(BEGIN, None)
            if result.status not in _OK:
                raise error_from_result(result, encoding=encoding)
        if stepping:
            if plan is None:  # prepare it in the transaction: a Parse outside one commits one
                plan = self._prepare(sql)
                steps = plan.args(params)
            try:
                while True:
                    answer = run(plan.name, steps)  # type: ignore[arg-type]
                    if answer.status not in _OK:
                        raise error_from_result(answer, encoding=encoding)
                    if plan.final:  # COMMIT first; the answer goes to the operation after
                        break
                    sql, params = send(plan.load(answer))
                    plan = plans.get(sql.text) or self._prepare(sql)
                    steps = plan.args(params)
            except StopIteration as done:
                outcome = done.value
                plan = None  # the operation has ended
        result = run(COMMIT, None)
        if result.status not in _OK:
            raise error_from_result(result, encoding=encoding)
        if plan is not None:  # it has not: the final step's answer, handed over once committed
            return finish(operation, plan.load(answer))
        return outcome

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
        return plan.load(result)

    def _prepare(self, sql: Sql) -> Plan:
        plan = self._new_plan(sql)
        self._check(self.pgconn.prepare(plan.name, sql.numbered))
        self.plans[sql.text] = plan
        return plan

    def _command(self, command: bytes) -> None:
        self._check(self.pgconn.exec_(command))
