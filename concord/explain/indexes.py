"""The index audit behind `concord db indexes`: does every index earn its place?

Two checks, both against the live catalog:

- every foreign key has a supporting index: one whose leading columns are the key's columns and
  that is not partial. Without it, deleting a parent row (and ON DELETE CASCADE / SET NULL)
  scans the whole child table, and the check runs under the parent's row lock.
- every index is used by some named query: the registry's statements are planned (EXPLAIN
  without ANALYZE, in a rolled-back transaction) and the indexes their plans read are collected.
  An index no query uses still has a reason to exist when it enforces a constraint (primary key,
  unique) or supports a foreign key; one with neither is reported as unused.

Plans depend on the data: on a nearly empty database the planner reads small tables sequentially
and indexes look unused. Seed first (`concord seed`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy import URL

from concord.explain.runner import Explained, explain_all
from concord.explain.transaction import in_rolled_back_transaction
from concord.models import Base

_FOREIGN_KEYS = """
SELECT c.conname, t.relname,
       array(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY AS k(num, ord)
              JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.num ORDER BY k.ord),
       (SELECT x.relname FROM pg_index i JOIN pg_class x ON x.oid = i.indexrelid
         WHERE i.indrelid = c.conrelid AND i.indpred IS NULL AND i.indisvalid
           AND (i.indkey::int2[])[0:cardinality(c.conkey) - 1] @> c.conkey
           AND (i.indkey::int2[])[0:cardinality(c.conkey) - 1] <@ c.conkey
         ORDER BY i.indnkeyatts, x.relname LIMIT 1)
  FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
 WHERE c.contype = 'f' AND t.relnamespace = current_schema()::regnamespace AND t.relname = ANY(:tables)
 ORDER BY t.relname, c.conname"""

_INDEXES = """
SELECT x.relname, t.relname, pg_get_indexdef(i.indexrelid), con.conname
  FROM pg_index i JOIN pg_class x ON x.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid
  LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.contype IN ('p', 'u', 'x')
 WHERE t.relnamespace = current_schema()::regnamespace AND t.relname = ANY(:tables)
 ORDER BY t.relname, x.relname"""


@dataclass(frozen=True)
class ForeignKey:
    constraint: str
    table: str
    columns: list[str]
    index: str | None  # the supporting index, None when there is none

    @property
    def supported(self) -> bool:
        return self.index is not None


@dataclass
class IndexUse:
    index: str
    table: str
    definition: str
    enforces: str | None  # the primary key or unique constraint it backs
    supports: list[str] = field(default_factory=list)  # foreign keys it serves
    used_by: list[str] = field(default_factory=list)  # named queries whose plans read it

    @property
    def verdict(self) -> str:
        if self.used_by:
            return "used"
        if self.enforces:
            return "constraint only"
        if self.supports:
            return "foreign key only"
        return "unused"


@dataclass
class IndexAudit:
    foreign_keys: list[ForeignKey]
    indexes: list[IndexUse]
    table_rows: dict[str, float]

    @property
    def problems(self) -> list[str]:
        found = [
            f"foreign key {fk.constraint} on {fk.table}({', '.join(fk.columns)}) has no supporting index"
            for fk in self.foreign_keys
            if not fk.supported
        ]
        found += [
            f"index {ix.index} on {ix.table} is used by no named query and enforces nothing"
            for ix in self.indexes
            if ix.verdict == "unused"
        ]
        return found

    def as_dict(self) -> dict[str, Any]:
        return {
            "foreign_keys": [{**asdict(fk), "supported": fk.supported} for fk in self.foreign_keys],
            "indexes": [{**asdict(ix), "verdict": ix.verdict} for ix in self.indexes],
            "table_rows": self.table_rows,
            "problems": self.problems,
        }


def audit(database_url: str | URL | None) -> IndexAudit:
    """Check foreign keys against indexes and indexes against the named queries' plans."""
    tables = sorted(Base.metadata.tables)
    foreign_keys, indexes, table_rows = in_rolled_back_transaction(
        database_url, lambda c: _catalog(c, tables)
    )
    used: dict[str, list[str]] = {}
    planned = [item for item in explain_all(database_url, analyze=False) if isinstance(item, Explained)]
    for item in planned:
        for index in item.plan.indexes():
            used.setdefault(index, []).append(item.name)
    for use in indexes:
        use.used_by = used.get(use.index, [])
        use.supports = [fk.constraint for fk in foreign_keys if fk.index == use.index]
    return IndexAudit(foreign_keys, indexes, table_rows)


def _catalog(
    conn: sa.Connection, tables: list[str]
) -> tuple[list[ForeignKey], list[IndexUse], dict[str, float]]:
    keys = [
        ForeignKey(name, table, list(columns), index)
        for name, table, columns, index in conn.execute(sa.text(_FOREIGN_KEYS), {"tables": tables})
    ]
    indexes = [
        IndexUse(name, table, definition, constraint)
        for name, table, definition, constraint in conn.execute(sa.text(_INDEXES), {"tables": tables})
    ]
    rows = conn.execute(
        sa.text(
            "SELECT relname, greatest(reltuples, 0) FROM pg_class WHERE relname = ANY(:t) "
            "AND relnamespace = current_schema()::regnamespace AND relkind = 'r'"
        ),
        {"t": tables},
    )
    return keys, indexes, {name: float(count) for name, count in rows}
