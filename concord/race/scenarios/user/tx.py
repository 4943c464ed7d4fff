"""`Tx`: what a user scenario's ``transaction(tx)`` is handed, one per worker.

Every call runs on the worker's own connection, inside the ``BEGIN`` ... ``COMMIT`` the worker's
libpq session sends around the attempt (the connection is in autocommit mode, so psycopg adds no
transaction of its own: what ``tx`` runs belongs to the worker's transaction, at the cell's
isolation level). The cell's locking strategy acts in two places only:

- `Tx.lock` takes the strategy's lock on named rows: ``FOR UPDATE`` (pessimistic, ordered: keys
  sorted first), ``FOR UPDATE NOWAIT`` (nowait), ``pg_advisory_xact_lock`` on
  `concord.locking.keys.advisory_key` ``(table, key)`` (advisory), nothing (none, optimistic);
- `Tx.read` / `Tx.write` read and write a row by its primary key; under optimistic the write is a
  compare-and-set on the table's integer ``version`` column (``AND version = <read>``, then
  ``version + 1``) and a write that matched no row raises `StaleVersion`, which is retried.

Rows are named by a one-column primary key; a table's key column (and, under optimistic, its
``version`` column) is looked up in the catalog once per worker and table.

`Tx.execute` goes through psycopg's cursor (any SQL, any parameter type). `lock`, `read` and
`write` run as prepared statements of the worker's libpq session, as concord's own steps do, when
their values are ints, strs or None; other types go through psycopg, whose adapters know them.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from concord.errors import StaleVersion
from concord.race.scenarios.program import CompiledStrategy
from concord.race.steps import Fetch, Sql

#: Parameter types `Tx` sends through the worker's prepared libpq path (as text the server casts
#: to the column's type, as concord's own steps are sent); anything else goes through psycopg's
#: cursor and its adapters, which know every type.
_TEXT_TYPES = frozenset({int, str, type(None)})
Run = Callable[[Sql, dict[str, Any]], Any]

_INTEGER_TYPES = frozenset({"smallint", "integer", "bigint"})
_TABLE = """
SELECT c.oid::regclass::text,
       (SELECT array_agg(a.attname::text ORDER BY a.attnum)
          FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
         WHERE i.indrelid = c.oid AND i.indisprimary),
       (SELECT format_type(a.atttypid, NULL) FROM pg_attribute a
         WHERE a.attrelid = c.oid AND a.attname = 'version' AND NOT a.attisdropped)
  FROM pg_class c WHERE c.oid = to_regclass(%s)
"""


class TxMisuse(Exception):
    """A `Tx` call that cannot work as written (no such table, no version column, ...)."""


@dataclass(frozen=True, slots=True)
class Table:
    """A table as `Tx` names it: PostgreSQL's own quoting of its name, its key, its version."""

    name: str
    key: str
    version: str | None  # the version column's type, None when there is none


class Tx:
    """The handle a user's ``transaction(tx)`` works through (see the module docstring).

    ``tx.worker`` is the worker's number (0 .. workers - 1) and ``tx.rng`` a `random.Random`
    seeded from the experiment's seed and the worker's number, so a run can be repeated.
    """

    def __init__(
        self,
        conn: psycopg.Connection,
        worker: int,
        seed: int,
        strategy: CompiledStrategy,
        row_lock: str,
        run: Run | None = None,
    ) -> None:
        self.worker = worker
        self.rng = random.Random(seed)
        self._conn, self._strategy, self._row_lock, self._run = conn, strategy, row_lock, run
        self._tables: dict[str, Table] = {}
        self._statements: dict[tuple[Any, ...], Sql] = {}
        self._versions: dict[tuple[str, Any], int] = {}

    def begin(self) -> None:
        """A new attempt: forget the versions the previous one read."""
        self._versions.clear()

    def execute(self, statement: str, params: Sequence[Any] | dict[str, Any] | None = None) -> list[tuple]:
        """Run one statement (psycopg's ``%s`` / ``%(name)s`` placeholders); its rows, or []."""
        cursor = self._conn.execute(statement, params)
        return cursor.fetchall() if cursor.description is not None else []

    def lock(self, table: str, *keys: Any) -> None:
        """Apply the cell's locking strategy to the rows ``keys`` of ``table`` (in the strategy's
        order: ascending under ``ordered``, as given otherwise)."""
        if not keys:
            raise TxMisuse("tx.lock(table, key, ...) needs at least one key")
        ordered = sorted(keys) if self._strategy.orders_keys else keys
        guard, key_of = self._strategy.guard_sql, self._strategy.guard_key
        if guard is not None and key_of is not None:
            for key in ordered:
                self._step(guard, {**guard.defaults, "key": key_of(table, key)})
        elif self._row_lock:
            statement = self._statement(("lock", table), Fetch.NOTHING, lambda: self._lock_sql(table))
            for key in ordered:
                self._step(statement, {"key": key})

    def read(self, table: str, key: Any, columns: Sequence[str] | str) -> tuple | None:
        """The row's ``columns`` as a tuple (None when there is no such row); under optimistic,
        also the version the next `write` of the row compares with."""
        names = (columns,) if isinstance(columns, str) else tuple(columns)
        cas = self._strategy.compares_version
        info = self._table(table, needs_version=cas)
        statement = self._statement(
            ("read", table, names, cas), Fetch.ROW, lambda: _read_sql(info, names, cas)
        )
        row = self._step(statement, {"key": key})
        if row is None:
            return None
        if cas:
            self._versions[(table, key)] = row[-1]
            return tuple(row[:-1])
        return tuple(row)

    def write(self, table: str, key: Any, values: dict[str, Any]) -> int:
        """``UPDATE table SET values WHERE key``; the number of rows written (0 or 1). Under
        optimistic a compare-and-set with the version `read` saw: `StaleVersion` when it changed."""
        if not values:
            raise TxMisuse("tx.write(table, key, values) needs at least one column to set")
        names = tuple(values)
        cas = self._strategy.compares_version
        info = self._table(table, needs_version=cas)
        statement = self._statement(
            ("write", table, names, cas), Fetch.ROWCOUNT, lambda: _write_sql(info, names, cas)
        )
        params = {f"v{i}": value for i, value in enumerate(values.values())}
        params["key"] = key
        if not cas:
            return self._step(statement, params)
        expected = self._versions.get((table, key))
        if expected is None:
            raise TxMisuse(
                f"under optimistic, tx.write({table!r}, {key!r}, ...) compares the version tx.read saw: "
                f"read the row with tx.read first in the same transaction"
            )
        if self._step(statement, {**params, "version": expected}) == 0:
            raise StaleVersion(table, key, expected, None)
        self._versions[(table, key)] = expected + 1
        return 1

    def _step(self, statement: Sql, params: dict[str, Any]) -> Any:
        """Run one of `Tx`'s own statements: as a prepared step of the worker's libpq session when
        every value is an int, a str or None (what concord's own steps send), else via psycopg."""
        if self._run is not None and all(type(v) in _TEXT_TYPES for v in params.values()):
            return self._run(statement, params)
        cursor = self._conn.execute(statement.text, params)
        if statement.fetch is Fetch.ROWCOUNT:
            return cursor.rowcount
        return cursor.fetchone() if statement.fetch is Fetch.ROW else None

    def _table(self, table: str, *, needs_version: bool = False) -> Table:
        info = self._tables.get(table) or self._describe(table)
        if needs_version and info.version not in _INTEGER_TYPES:
            found = "has none" if info.version is None else f"has one of type {info.version}"
            raise TxMisuse(
                f"optimistic needs an integer version column on {info.name} and it {found}: "
                f"ALTER TABLE {info.name} ADD COLUMN version integer NOT NULL DEFAULT 0"
            )
        return info

    def _describe(self, table: str) -> Table:
        row = self._conn.execute(_TABLE, (table,)).fetchone()
        if row is None:
            raise TxMisuse(f"no table named {table!r}")
        name, key, version = row
        if not key or len(key) != 1:
            has = "none" if not key else f"({', '.join(key)})"
            raise TxMisuse(f"tx names rows by a one-column primary key: {name} has {has}")
        self._tables[table] = Table(name, key[0], version)
        return self._tables[table]

    def _statement(self, cache_key: tuple[Any, ...], fetch: Fetch, build: Callable[[], sql.Composed]) -> Sql:
        found = self._statements.get(cache_key)
        if found is None:
            found = Sql.from_text(build().as_string(self._conn), fetch)
            self._statements[cache_key] = found
        return found

    def _lock_sql(self, table: str) -> sql.Composed:
        info = self._table(table)
        return sql.SQL("SELECT 1 FROM {} WHERE {} = %(key)s " + self._row_lock).format(
            sql.SQL(info.name), sql.Identifier(info.key)
        )


def _columns(names: Iterable[str]) -> sql.Composed:
    return sql.SQL(", ").join(sql.Identifier(n) for n in names)


def _read_sql(info: Table, names: tuple[str, ...], cas: bool) -> sql.Composed:
    wanted = _columns([*names, "version"] if cas else names)
    return sql.SQL("SELECT {} FROM {} WHERE {} = %(key)s").format(
        wanted, sql.SQL(info.name), sql.Identifier(info.key)
    )


def _write_sql(info: Table, names: tuple[str, ...], cas: bool) -> sql.Composed:
    sets: list[sql.Composable] = [
        sql.SQL("{} = %({})s").format(sql.Identifier(n), sql.SQL(f"v{i}")) for i, n in enumerate(names)
    ]
    where = sql.SQL("{} = %(key)s").format(sql.Identifier(info.key))
    if cas:  # the compare-and-set of concord.locking.optimistic, on the user's table
        sets.append(sql.SQL("version = version + 1"))
        where = sql.SQL("{} AND version = %(version)s").format(where)
    return sql.SQL("UPDATE {} SET {} WHERE {}").format(sql.SQL(info.name), sql.SQL(", ").join(sets), where)
