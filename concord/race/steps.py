"""Operations as plain generators of SQL steps, so one scenario runs on every executor.

A scenario's operation is a generator: it yields ``(Sql, params)`` pairs and receives each
statement's result (a row, a scalar, a row count, or None), then returns an `Outcome`. It never
touches a connection. Every worker runs the steps as prepared statements through libpq
(`concord.race.libpq`: blocking for threads and processes, non-blocking for asyncio), so the logic
of a race is written once.

Statements are SQLAlchemy Core statements (those of `concord.locking` and the scenario),
compiled once per cell into psycopg's ``%(name)s`` text: nothing is compiled, and no ORM object
is built, inside a locked section.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any

from concord.errors import Conflict

if TYPE_CHECKING:  # only the coordinator compiles statements: workers never import SQLAlchemy
    import sqlalchemy as sa


class Fetch(Enum):
    """What the driver sends back into the operation after running a statement."""

    NOTHING = "nothing"
    ROW = "row"  # the first row (a tuple) or None
    SCALAR = "scalar"  # the first column of the first row, or None
    ROWCOUNT = "rowcount"


@dataclass(frozen=True, slots=True)
class Sql:
    """One compiled statement: its text, the constants it binds, and what to fetch.

    ``text`` uses psycopg's ``%(name)s`` placeholders; ``numbered`` is the same statement with
    libpq's ``$1, $2, ...`` and ``names`` the parameter behind each number, for the sync workers'
    prepared-statement path (`concord.race.libpq`).

    ``final`` marks an operation's last statement whose answer can no longer fail the attempt:
    a worker may send ``COMMIT`` as soon as the answer is in and hand it to the operation after,
    so the row locks go as soon as the last write is done (as a hand-written client does). The
    operation must then end without raising: its transaction has committed, and the server
    counts it so (the race's reconciliation with pg_stat_database). A write whose row count may
    still fail the attempt (a compare-and-set) is not final
    (`concord.race.scenarios.scenario.task_write`). A driver may ignore the mark; the outcome is
    the same.
    """

    text: str
    fetch: Fetch
    defaults: dict[str, Any] = field(default_factory=dict)
    numbered: bytes = b""
    names: tuple[str, ...] = ()
    final: bool = False

    @classmethod
    def of(cls, statement: sa.ClauseElement, fetch: Fetch, *, final: bool = False) -> Sql:
        """Compile a Core statement for psycopg 3 (``%(name)s`` placeholders with casts)."""
        from sqlalchemy.dialects.postgresql.psycopg import dialect

        compiled = statement.compile(dialect=dialect())
        defaults = {k: v for k, v in compiled.params.items() if v is not None}
        text = str(compiled)
        numbered, names = _number_placeholders(text)
        return cls(text, fetch, defaults, numbered, names, final)

    @classmethod
    def from_text(cls, text: str, fetch: Fetch) -> Sql:
        """A statement already written as text with ``%(name)s`` placeholders (a user scenario's)."""
        numbered, names = _number_placeholders(text)
        return cls(text, fetch, {}, numbered, names)

    def bind(self, params: dict[str, Any]) -> dict[str, Any]:
        return {**self.defaults, **params} if self.defaults else params


class Status(Enum):
    DONE = "done"  # the operation did what it set out to do
    DECLINED = "declined"  # it committed, but the domain said no (lost the race, list full)
    EXHAUSTED = "exhausted"  # nothing left to do: the worker stops


@dataclass(frozen=True, slots=True)
class Outcome:
    status: Status
    payload: Any = None


DONE = Outcome(Status.DONE)
DECLINED = Outcome(Status.DECLINED)
EXHAUSTED = Outcome(Status.EXHAUSTED)

Step = tuple[Sql, dict[str, Any]]
Operation = Generator[Step, Any, Outcome]


class RowMissed(Conflict):
    """A locking read returned no row although some are left: run the transaction again."""

    kind = "row_missed"


def drive(run: Callable[[Sql, dict[str, Any]], Any], operation: Operation) -> Outcome:
    """Run every step of ``operation`` with ``run(sql, params)``; return its outcome."""
    send = operation.send
    try:
        sql, params = next(operation)
        while True:
            sql, params = send(run(sql, params))
    except StopIteration as done:
        return done.value


def finish(operation: Operation, answer: Any) -> Outcome:
    """Hand a final step's answer (`Sql.final`) to ``operation``; its outcome, for it must end
    there (`TypeError` when it yields another step; what it raises, a broken promise too,
    reaches the caller as a failed attempt)."""
    try:
        sql, _ = operation.send(answer)
    except StopIteration as done:
        outcome: Outcome = done.value
        return outcome
    operation.close()
    raise TypeError(f"a step after a final one ({sql.text!r}): a final step must be the operation's last")


def _number_placeholders(text: str) -> tuple[bytes, tuple[str, ...]]:
    """``%(a)s ... %(b)s ... %(a)s`` -> ``$1 ... $2 ... $1`` and ``("a", "b")``."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    numbered = _PLACEHOLDER.sub(number, text).replace("%%", "%")
    return numbered.encode(), tuple(names)


_PLACEHOLDER = re.compile(r"%\((\w+)\)s")
