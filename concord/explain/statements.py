"""Statements as the driver receives them: SQL text and parameters.

Two ways to get them, both from the library's own code rather than copies of its SQL:

- `compile_statement` compiles a SQLAlchemy statement (a builder of `concord.queries`, a locking
  strategy's lock statement) with the connection's dialect, as executing it would;
- `capture` runs a library call (a repository method) and records what reaches the cursor, for
  statements built inline or emitted by the ORM (the selectin loads of the board tree, the
  compare-and-set UPDATE of `TaskRepository.write`). The call is stopped just before the wanted
  statement would reach the server, so that statement runs only once, under EXPLAIN: a write
  captured by running it would leave dead row versions behind that the explained run then reads.
  The statements before it (the reads the call needs to get there) do run, in a savepoint that
  is rolled back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine.interfaces import Compiled
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler


@dataclass(frozen=True)
class Statement:
    """One statement in the driver's paramstyle (``%(name)s``) with its parameter values."""

    sql: str
    params: Mapping[str, Any] = field(default_factory=dict)


def compile_statement(
    statement: sa.ClauseElement, dialect: sa.Dialect, values: Mapping[str, Any] | None = None
) -> Statement:
    """The SQL and parameters that executing ``statement`` with ``values`` would send."""
    compiled = _sql(statement.compile(dialect=dialect, compile_kwargs={"render_postcompile": True}))
    return Statement(str(compiled), dict(compiled.construct_params(dict(values or {}))))


def bind_names(statement: sa.ClauseElement) -> list[str]:
    """Names of the bind parameters a statement needs a value for (``:id``, ``:list_id``, ...)."""
    compiled = _sql(statement.compile())
    return [name for name, bind in compiled.binds.items() if bind.required]


def _sql(compiled: Compiled) -> SQLCompiler:
    # A statement (not DDL) compiles to a SQLCompiler; SQLAlchemy types compile() as any Compiled.
    return cast(SQLCompiler, compiled)


class _Captured(Exception):
    """Raised from the cursor hook to stop the call before the wanted statement is sent."""


_TRANSACTION_CONTROL = ("SAVEPOINT", "RELEASE", "ROLLBACK")


@contextmanager
def _recording(connection: sa.Connection, want: int) -> Iterator[list[Statement]]:
    seen: list[Statement] = []

    def record(conn, cursor, sql, parameters, context, executemany) -> None:
        if sql.lstrip().upper().startswith(_TRANSACTION_CONTROL):
            return
        seen.append(Statement(sql, dict(parameters or {})))
        if len(seen) > want:
            raise _Captured

    event.listen(connection, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(connection, "before_cursor_execute", record)


def capture(connection: sa.Connection, call: Callable[[Session], object], want: int) -> list[Statement]:
    """Run ``call(session)`` on ``connection`` until it is about to send its statement number
    ``want`` (from 0), without sending it; return the statements up to and including it (fewer
    when the call ends first). Everything the call did runs in a savepoint that is rolled back."""
    session = Session(bind=connection, join_transaction_mode="create_savepoint")
    try:
        with _recording(connection, want) as seen, suppress(_Captured):
            call(session)
    finally:
        session.close()  # rolls the savepoint back: the call's writes never happened
    return seen
