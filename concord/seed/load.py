"""Loading the generated rows with binary COPY, in one transaction.

Into empty tables the load follows PostgreSQL's own advice for populating a database: the
indexes and the key constraints (primary, unique, foreign) of the loaded tables are dropped, the
rows are copied with ``FREEZE`` (allowed because the tables are truncated in the same transaction;
it leaves them all-visible, so index-only scans work at once), then the keys and indexes are
rebuilt by sorting and the foreign keys added back, which validates every reference in one pass
(and the primary and unique keys check every row too). The definitions come from the catalog
(``pg_get_indexdef``, ``pg_get_constraintdef``), so what is recreated is exactly what was there;
a failure anywhere rolls the whole transaction back, definitions included.

Appending keeps indexes and constraints in place (slower: every row is checked and indexed one
by one) and numbers the new rows after the largest existing ids.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import psycopg
from psycopg import sql

from concord.seed.generate import COLUMNS, IdBase, Rows

TABLES = ("users", "boards", "task_lists", "tasks", "activity")  # parents before children
PROGRESS_EVERY = 10_000
# Waiting behind a running experiment's locks is refused rather than hanging the seed.
LOCK_TIMEOUT = "5s"

Progress = Callable[[str, int], None]  # (what is happening, rows copied so far in all tables)


@dataclass(frozen=True)
class Ddl:
    """One object dropped for the load and the statement that creates it again."""

    name: str
    drop: sql.Composed
    create: sql.SQL | sql.Composed


def begin(conn: psycopg.Connection) -> None:
    conn.execute(sql.SQL("SET LOCAL lock_timeout = {}").format(sql.Literal(LOCK_TIMEOUT)))
    conn.execute("SET LOCAL maintenance_work_mem = '256MB'")
    # Adding a foreign key back validates it with one anti-join; in memory it does not spill.
    conn.execute("SET LOCAL work_mem = '128MB'")


def is_empty(conn: psycopg.Connection) -> bool:
    """True when none of concord's tables holds a row."""
    probes = sql.SQL(" OR ").join(
        sql.SQL("EXISTS (SELECT 1 FROM {})").format(sql.Identifier(table)) for table in TABLES
    )
    row = conn.execute(sql.SQL("SELECT NOT ({})").format(probes)).fetchone()
    return bool(row and row[0])


def id_base(conn: psycopg.Connection) -> IdBase:
    """The largest id of each table, so appended rows follow them."""
    values = {
        table: conn.execute(
            sql.SQL("SELECT coalesce(max(id), 0) FROM {}").format(sql.Identifier(table))
        ).fetchone()[0]  # type: ignore[index]  # max() answers one row
        for table in TABLES
    }
    return IdBase(**values)


def truncate(conn: psycopg.Connection) -> None:
    tables = sql.SQL(", ").join(sql.Identifier(table) for table in TABLES)
    conn.execute(sql.SQL("TRUNCATE {} RESTART IDENTITY").format(tables))


def drop_for_load(conn: psycopg.Connection) -> list[Ddl]:
    """Drop the constraints (foreign, primary, unique) and the indexes of the loaded tables; return
    how to recreate them, in an order that works: keys first, then indexes, then the foreign keys
    that need the keys they reference. Foreign keys to tables outside the load would keep their
    referenced keys alive, so the drop only works on concord's own set of tables (it is)."""
    constraints = conn.execute(
        """SELECT c.contype, c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)
             FROM pg_constraint c
            WHERE c.contype IN ('f', 'p', 'u') AND c.conrelid = ANY(%s::regclass[])
            ORDER BY c.contype, c.conname""",
        (list(TABLES),),
    ).fetchall()
    indexes = conn.execute(
        """SELECT ix.relname, pg_get_indexdef(i.indexrelid)
             FROM pg_index i JOIN pg_class ix ON ix.oid = i.indexrelid
            WHERE i.indrelid = ANY(%s::regclass[])
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
            ORDER BY ix.relname""",
        (list(TABLES),),
    ).fetchall()
    # table is regclass text: already quoted where it needs to be.
    keys = {
        kind: [
            Ddl(
                name,
                sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(sql.SQL(table), sql.Identifier(name)),
                sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} ").format(sql.SQL(table), sql.Identifier(name))
                + sql.SQL(definition),
            )
            for contype, table, name, definition in constraints
            if contype == kind
        ]
        for kind in ("f", "p", "u")
    }
    index_ddl = [
        Ddl(name, sql.SQL("DROP INDEX {}").format(sql.Identifier(name)), sql.SQL(definition))
        for name, definition in indexes
    ]
    for ddl in keys["f"] + keys["p"] + keys["u"] + index_ddl:
        conn.execute(ddl.drop)
    return keys["p"] + keys["u"] + index_ddl + keys["f"]


def recreate(conn: psycopg.Connection, dropped: Iterable[Ddl], progress: Progress, copied: int) -> None:
    for ddl in dropped:
        progress(f"rebuilding {ddl.name}", copied)
        conn.execute(ddl.create)


def copy_table(
    conn: psycopg.Connection, rows: Rows, table: str, *, freeze: bool, progress: Progress, copied: int
) -> int:
    """COPY one table's generated rows (binary, explicit types); returns the running row count."""
    columns = COLUMNS[table]
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY{})").format(
        sql.Identifier(table),
        sql.SQL(", ").join(sql.Identifier(name) for name, _ in columns),
        sql.SQL(", FREEZE") if freeze else sql.SQL(""),
    )
    description = f"copying {table}"
    progress(description, copied)
    with conn.cursor() as cur, cur.copy(statement) as copy:
        copy.set_types([type_ for _, type_ in columns])
        write_row = copy.write_row
        for n, row in enumerate(rows.of(table), start=1):
            write_row(row)
            if n % PROGRESS_EVERY == 0:
                progress(description, copied + n)
        copied += rows.plan.row_counts()[table]
    progress(description, copied)
    return copied


def set_sequences(conn: psycopg.Connection) -> None:
    """Point each identity sequence at the table's largest id, so later inserts do not collide."""
    for table in TABLES:
        conn.execute(
            sql.SQL(
                "SELECT setval(pg_get_serial_sequence({name}, 'id'), coalesce(max(id), 0) + 1, false)"
                " FROM {table}"
            ).format(name=sql.Literal(table), table=sql.Identifier(table))
        )


def analyze(conn: psycopg.Connection, *, vacuum: bool) -> None:
    """Fresh statistics for the planner; after an append also VACUUM, so the visibility map lets
    index-only scans skip the heap (a frozen load sets it already). Needs autocommit."""
    command = "VACUUM (ANALYZE)" if vacuum else "ANALYZE"
    for table in TABLES:
        conn.execute(sql.SQL(command + " {}").format(sql.Identifier(table)))
