"""Running EXPLAIN on the named queries, always inside a transaction that is rolled back.

``EXPLAIN ANALYZE`` executes the statement, so explaining an UPDATE or a DELETE would change
data: every explain here runs in a transaction that is rolled back at the end, each statement in
a savepoint of its own (so the plan with an index and the plan without it see the same rows).

``--without-index`` drops the index inside that transaction. DROP INDEX takes an ACCESS EXCLUSIVE
lock on the table until the rollback, which would block every reader and writer of the table
meanwhile, and would itself wait behind any running transaction that touched it (a race, say).
`LOCK_TIMEOUT` bounds that wait: the explain fails with `LockNotAvailable` (exit 3) rather than
hang, and the lock is held only for the few milliseconds the plan takes. A statement that runs
too long is cancelled by the server. That transaction is `concord.explain.transaction`'s.

The rollback undoes what the transaction wrote, not everything a statement can do: see
`explain_sql`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
import sqlalchemy as sa
from sqlalchemy import URL

from concord.errors import InvalidInput
from concord.explain import params as params_
from concord.explain.errors import ExplainUsageError, not_explainable
from concord.explain.plan import Plan, analyse
from concord.explain.registry import NamedQuery, get, registry
from concord.explain.statements import Statement
from concord.explain.transaction import DEFAULT_STATEMENT_TIMEOUT_S, in_rolled_back_transaction


@dataclass
class Explained:
    """One statement and its plan."""

    name: str
    description: str
    statement: Statement
    params: dict[str, Any]
    plan: Plan
    full_listing: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "sql": self.statement.sql,
            "params": self.params,
            "analyzed": self.plan.analyzed,
            "shape": self.plan.shape(),
            "indexes": self.plan.indexes(),
            "seq_scans": self.plan.seq_scanned(),
            "execution_ms": self.plan.execution_ms,
            "planning_ms": self.plan.planning_ms,
            "flags": [flag.as_dict() for flag in self.plan.flags()],
            "plan": self.plan.document,
        }


@dataclass
class Comparison:
    """The same statement planned with an index and with it dropped."""

    index: str
    with_index: Explained
    without_index: Explained

    def as_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "with_index": self.with_index.as_dict(),
            "without_index": self.without_index.as_dict(),
        }


def describe_queries(
    database_url: str | URL | None, *, statement_timeout_s: float | str = DEFAULT_STATEMENT_TIMEOUT_S
) -> list[dict[str, Any]]:
    """Every named query with its parameters and the defaults the data gives them."""
    entries = registry()
    needed = sorted({p for entry in entries.values() for p in entry.params}, key=params_.ORDER.index)

    def run(conn: sa.Connection) -> dict[str, Any]:
        return params_.resolve(conn, needed, {})

    defaults = in_rolled_back_transaction(database_url, run, statement_timeout_s)
    return [
        {"name": e.name, "description": e.description, "params": {p: defaults[p] for p in e.params}}
        for e in entries.values()
    ]


def explain_query(
    database_url: str | URL | None,
    name: str,
    given: Mapping[str, Any] | None = None,
    *,
    analyze: bool = True,
    without_index: str | None = None,
    statement_timeout_s: float | str = DEFAULT_STATEMENT_TIMEOUT_S,
) -> Explained | Comparison:
    """Plan the named query; with ``without_index``, also with that index dropped."""
    entry = _entry(name)
    given = dict(given or {})
    extra = sorted(set(given) - set(entry.params))
    if extra:
        takes = ", ".join(entry.params) or "no parameters"
        raise ExplainUsageError(f"{name} takes {takes}; not {', '.join(extra)}")

    def run(conn: sa.Connection) -> Explained | Comparison:
        values = params_.resolve(conn, list(entry.params), given)
        real = _explain_entry(conn, entry, values, analyze)
        if without_index is None:
            return real
        _drop_index(conn, without_index)
        return Comparison(without_index, real, _explain_entry(conn, entry, values, analyze))

    return in_rolled_back_transaction(database_url, run, statement_timeout_s)


@dataclass
class Skipped:
    """A named query `explain_all` could not plan with the data at hand (an empty database)."""

    name: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "skipped": self.reason}


def explain_all(
    database_url: str | URL | None,
    *,
    analyze: bool = True,
    statement_timeout_s: float | str = DEFAULT_STATEMENT_TIMEOUT_S,
) -> list[Explained | Skipped]:
    """Plan every named query with its default parameters; those the data cannot reach are skipped."""

    def run(conn: sa.Connection) -> list[Explained | Skipped]:
        entries = list(registry().values())
        needed = sorted({p for e in entries for p in e.params}, key=params_.ORDER.index)
        defaults = params_.resolve(conn, needed, {})
        return [_explain_or_skip(conn, e, {p: defaults[p] for p in e.params}, analyze) for e in entries]

    return in_rolled_back_transaction(database_url, run, statement_timeout_s)


def _explain_or_skip(
    conn: sa.Connection, entry: NamedQuery, values: dict[str, Any], analyze: bool
) -> Explained | Skipped:
    try:
        return _explain_entry(conn, entry, values, analyze)
    except ExplainUsageError as exc:
        return Skipped(entry.name, exc.message)


def explain_sql(
    database_url: str | URL | None,
    sql: str,
    *,
    analyze: bool = True,
    statement_timeout_s: float | str = DEFAULT_STATEMENT_TIMEOUT_S,
) -> Explained:
    """Plan one statement given as SQL text; more than one statement is refused.

    With ``analyze`` the statement runs, in a transaction that is rolled back. The rollback
    undoes what the transaction wrote; it cannot undo what acts outside it: a sequence's
    ``nextval`` stays consumed, ``pg_terminate_backend`` and ``pg_cancel_backend`` have ended or
    cancelled their target, work done over another connection (``dblink``, a foreign table)
    stays done, a file written on the server (``lo_export``) stays written, and a reset of the
    statistics (``pg_stat_reset``) stays reset. A ``NOTIFY`` is never sent (that happens at
    commit).
    """
    if not sql.strip():
        raise ExplainUsageError("--sql needs a statement")

    def run(conn: sa.Connection) -> Explained:
        plan = _explain(conn, Statement(sql), analyze, verbatim=True)
        return Explained("sql", "a statement given with --sql", Statement(sql), {}, plan)

    try:
        return in_rolled_back_transaction(database_url, run, statement_timeout_s)
    except ExplainUsageError as exc:
        raise not_explainable(sql, exc) from exc


def _entry(name: str) -> NamedQuery:
    try:
        return get(name)
    except InvalidInput as exc:
        raise ExplainUsageError(exc.message) from None


def _explain_entry(
    conn: sa.Connection, entry: NamedQuery, values: dict[str, Any], analyze: bool
) -> Explained:
    with _savepoint(conn):
        statement = entry.statement(conn, values)
    plan = _explain(conn, statement, analyze)
    return Explained(entry.name, entry.description, statement, values, plan, entry.full_listing)


def _explain(conn: sa.Connection, statement: Statement, analyze: bool, *, verbatim: bool = False) -> Plan:
    options = "ANALYZE, BUFFERS, FORMAT JSON" if analyze else "FORMAT JSON"
    with _savepoint(conn):
        driver = conn.connection.driver_connection
        assert isinstance(driver, psycopg.Connection)
        with driver.cursor() as cur:
            # binary=True forces the extended query protocol, under which the server itself
            # refuses a string holding more than one statement. Verbatim SQL gets no parameters,
            # so a % in it is left alone.
            cur.execute(
                f"EXPLAIN ({options}) {statement.sql}",
                None if verbatim else dict(statement.params),
                binary=True,
            )
            row = cur.fetchone()
    assert row is not None
    document = row[0] if isinstance(row[0], list) else json.loads(row[0])
    plan = Plan.parse(document, analyzed=analyze)
    return analyse(plan, _table_rows(conn, plan.relations()))


def _table_rows(conn: sa.Connection, relations: list[str]) -> dict[str, float]:
    if not relations:
        return {}
    rows = conn.execute(
        sa.text(
            "SELECT relname, greatest(reltuples, 0) FROM pg_class WHERE relname = ANY(:names) "
            "AND relkind IN ('r', 'p', 'm') AND relnamespace = current_schema()::regnamespace"
        ),
        {"names": relations},
    )
    return {name: float(count) for name, count in rows}


def _drop_index(conn: sa.Connection, index: str) -> None:
    """Drop ``index`` (or the constraint it enforces) inside the caller's transaction."""
    found = conn.execute(
        sa.text("""SELECT t.relname, c.conname FROM pg_index i
                    JOIN pg_class x ON x.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid
                    LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.contype IN ('p', 'u', 'x')
                   WHERE x.relname = :index AND x.relnamespace = current_schema()::regnamespace"""),
        {"index": index},
    ).first()
    if found is None:
        raise ExplainUsageError(f"unknown index {index!r}: `concord db indexes` lists them")
    table, constraint = found
    quote = conn.dialect.identifier_preparer.quote
    if constraint is None:
        conn.exec_driver_sql(f"DROP INDEX {quote(index)}")
    else:  # the index enforces a constraint: drop that (and what depends on it), all rolled back
        conn.exec_driver_sql(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(constraint)} CASCADE")


@contextmanager
def _savepoint(conn: sa.Connection) -> Iterator[None]:
    savepoint = conn.begin_nested()
    try:
        yield
    finally:
        savepoint.rollback()
