"""A prepared statement's plan: what running it thousands of times needs, worked out once.

Both libpq sessions (`concord.race.libpq`: blocking for threads and processes, non-blocking for
asyncio) keep one `Plan` per statement of a connection. A plan holds the statement's prepared
name, its constants encoded once, the function that encodes a step's parameters (`_arguments`)
and the function that loads its result (`_loader`, then `_row_loader` once the columns are
known). Each is chosen once for the statement's shape, so a step pays only for what its
statement has: this is the per-statement Python of every racing worker, and every microsecond
of it between a result and the next command costs a transaction several times that on a small
machine (benchmarks/README.md, "the gaps between statements").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from psycopg import pq

from concord.race.steps import Fetch, Sql

#: Enum members are module constants here: reading ``Fetch.ROW`` goes through the enum's
#: descriptor (80 ns on CPython 3.11), a global does not.
_SCALAR, _ROWCOUNT, _NOTHING = Fetch.SCALAR, Fetch.ROWCOUNT, Fetch.NOTHING


class Plan:
    """One prepared statement of a session, with what running it repeatedly needs hoisted.

    The parameters' constants (``Sql.defaults``) are encoded once; ``args`` (what turns a step's
    params into libpq's text parameters) is chosen once from the statement's names; ``load``
    (what turns a checked result into what the step's ``fetch`` asks for) is chosen once per
    statement, and again, unrolled for its columns' loaders, when the first result with rows
    shows them (a prepared statement's columns never change). A step costs a dictionary lookup,
    one call that encodes exactly its parameters, libpq's own call and one call that loads
    exactly what was asked for.
    """

    __slots__ = ("args", "constants", "fetch", "final", "load", "loads", "name", "names")

    def __init__(
        self, name: bytes, sql: Sql, columns: Callable[[Plan, pq.abc.PGresult], tuple[Any, ...]]
    ) -> None:
        self.name = name
        self.names = sql.names
        self.constants = {k: _encode(v) for k, v in sql.defaults.items()}
        self.fetch = sql.fetch
        self.final = sql.final  # COMMIT as soon as its answer is in (`Sql.final`)
        #: The statement's parameters as text, in ``$n`` order: ``params`` win over constants.
        self.args: Callable[[dict[str, Any]], list[bytes | None]] = _arguments(self.names, self.constants)
        self.loads: tuple[Any, ...] | None = None  # the columns' loader functions, once known
        self.load: Callable[[pq.abc.PGresult], Any] = _loader(self, columns)


def _arguments(
    names: tuple[str, ...], constants: dict[str, bytes | None]
) -> Callable[[dict[str, Any]], list[bytes | None]]:
    """The function that encodes a step's params for a statement with parameters ``names``.

    Integers are encoded inline (``str(value).encode()``, a builtin call where `_encode` is a
    Python one). When every parameter comes from the step (the statement has no constants), one
    or two parameters are read without a loop: this runs for every statement of every
    transaction, and the loop, with its membership test per name, cost a third more.
    """
    if not constants.keys() & set(names):
        if len(names) == 1:
            (only,) = names

            def one(params: dict[str, Any]) -> list[bytes | None]:
                value = params[only]
                return [str(value).encode() if type(value) is int else _encode(value)]

            return one
        if len(names) == 2:
            first, second = names

            def two(params: dict[str, Any]) -> list[bytes | None]:
                a, b = params[first], params[second]
                return [
                    str(a).encode() if type(a) is int else _encode(a),
                    str(b).encode() if type(b) is int else _encode(b),
                ]

            return two

    def each(params: dict[str, Any]) -> list[bytes | None]:
        out: list[bytes | None] = []
        for name in names:
            if name in params:
                value = params[name]
                out.append(str(value).encode() if type(value) is int else _encode(value))
            else:
                out.append(constants[name])
        return out

    return each


def _loader(
    plan: Plan, columns: Callable[[Plan, pq.abc.PGresult], tuple[Any, ...]]
) -> Callable[[pq.abc.PGresult], Any]:
    """The one function that loads ``plan``'s results, for its ``fetch``; ``columns`` finds the
    column loaders from the first result that has rows (a row's loader then replaces itself with
    `_row_loader`'s, made for them)."""
    fetch = plan.fetch
    if fetch is _ROWCOUNT:
        return lambda result: result.command_tuples or 0
    if fetch is _NOTHING:
        return lambda result: None

    def scalar(result: pq.abc.PGresult) -> Any:
        if not result.ntuples:
            return None
        value = result.get_value(0, 0)
        return None if value is None else (plan.loads or columns(plan, result))[0](value)

    def row(result: pq.abc.PGresult) -> Any:
        if not result.ntuples:
            return None
        plan.load = _row_loader(columns(plan, result))
        return plan.load(result)

    return scalar if fetch is _SCALAR else row


def _row_loader(loads: tuple[Any, ...]) -> Callable[[pq.abc.PGresult], Any]:
    """The first row of a result as a tuple, each column through its loader (None for NULL).

    One or two columns, the counter's and the claim's reads, are unrolled: a loop over the
    loaders with a list to fill costs half as much again, on every locking read of a race.
    """
    if len(loads) == 1:
        (load,) = loads

        def one(result: pq.abc.PGresult) -> Any:
            if not result.ntuples:
                return None
            value = result.get_value(0, 0)
            return (None if value is None else load(value),)

        return one
    if len(loads) == 2:
        load_a, load_b = loads

        def two(result: pq.abc.PGresult) -> Any:
            if not result.ntuples:
                return None
            get = result.get_value
            a, b = get(0, 0), get(0, 1)
            return (None if a is None else load_a(a), None if b is None else load_b(b))

        return two

    def each(result: pq.abc.PGresult) -> Any:
        if not result.ntuples:
            return None
        get = result.get_value
        out = []
        for column, load in enumerate(loads):
            value = get(0, column)
            out.append(None if value is None else load(value))
        return tuple(out)

    return each


def _encode(value: Any) -> bytes | None:
    if value is None:
        return None
    if value is True or value is False:
        return b"t" if value else b"f"
    return str(value).encode()
