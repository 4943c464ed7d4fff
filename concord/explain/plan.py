"""A plan as PostgreSQL's ``EXPLAIN (FORMAT JSON)`` returns it, and what is worth flagging in it.

Flags:

- a sequential scan of a table with at least `LARGE_TABLE_ROWS` rows (by ``pg_class.reltuples``);
- an estimate off by more than `MISESTIMATE_FACTOR` from the actual rows (per loop, as both are
  reported), ignored when both are below `MISESTIMATE_MIN_ROWS` (1 against 3 is noise) and below
  a Limit, whose children stop early by design (an index scan estimated at the list's 800 rows
  that returns 1 under ``LIMIT 1`` is the plan working, not a misestimate);
- a sort that spilled to disk (``Sort Space Type: Disk``, an external sort or merge).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

LARGE_TABLE_ROWS = 10_000
MISESTIMATE_FACTOR = 10.0
MISESTIMATE_MIN_ROWS = 10


@dataclass(frozen=True)
class Flag:
    """Something in the plan worth a look."""

    kind: str  # seq_scan_large_table | misestimate | sort_spilled
    message: str
    relation: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {"kind": self.kind, "message": self.message, "relation": self.relation}


@dataclass
class PlanNode:
    """One node of the plan tree, over the raw JSON fields (``node.raw["Filter"]`` and so on)."""

    raw: Mapping[str, Any]
    children: list[PlanNode] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> PlanNode:
        return cls(raw, [cls.parse(child) for child in raw.get("Plans", [])])

    @property
    def node_type(self) -> str:
        return str(self.raw["Node Type"])

    @property
    def relation(self) -> str | None:
        return self.raw.get("Relation Name")

    @property
    def index(self) -> str | None:
        return self.raw.get("Index Name")

    @property
    def estimated_rows(self) -> float:
        return float(self.raw.get("Plan Rows", 0))

    @property
    def actual_rows(self) -> float | None:
        value = self.raw.get("Actual Rows")
        return None if value is None else float(value)

    @property
    def loops(self) -> int | None:
        value = self.raw.get("Actual Loops")
        return None if value is None else int(value)

    @property
    def total_ms(self) -> float | None:
        value = self.raw.get("Actual Total Time")
        return None if value is None else float(value)

    def walk(self) -> Iterator[PlanNode]:
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass
class Plan:
    """A whole EXPLAIN result: the tree, timings, and the flags raised on its nodes."""

    document: list[dict[str, Any]]  # exactly what EXPLAIN (FORMAT JSON) returned
    root: PlanNode
    analyzed: bool

    @classmethod
    def parse(cls, document: list[dict[str, Any]], *, analyzed: bool) -> Plan:
        return cls(document, PlanNode.parse(document[0]["Plan"]), analyzed)

    @property
    def execution_ms(self) -> float | None:
        value = self.document[0].get("Execution Time")
        return None if value is None else float(value)

    @property
    def planning_ms(self) -> float | None:
        value = self.document[0].get("Planning Time")
        return None if value is None else float(value)

    def nodes(self) -> Iterator[PlanNode]:
        return self.root.walk()

    def indexes(self) -> list[str]:
        """Indexes the plan reads, in plan order, without repeats."""
        return list(dict.fromkeys(node.index for node in self.nodes() if node.index))

    def relations(self) -> list[str]:
        return list(dict.fromkeys(node.relation for node in self.nodes() if node.relation))

    def seq_scanned(self) -> list[str]:
        """Tables read by a sequential scan."""
        return list(
            dict.fromkeys(n.relation for n in self.nodes() if "Seq Scan" in n.node_type and n.relation)
        )

    def flags(self) -> list[Flag]:
        return [flag for node in self.nodes() for flag in node.flags]

    def shape(self) -> str:
        """The tree in one line: ``Limit > Index Scan``, joins as ``Nested Loop(Index Scan, Seq Scan)``."""
        return _shape(self.root)


def analyse(plan: Plan, table_rows: Mapping[str, float]) -> Plan:
    """Attach flags to the plan's nodes; ``table_rows`` gives each relation's estimated size."""
    _flag_tree(plan.root, table_rows, under_limit=False)
    return plan


def _flag_tree(node: PlanNode, table_rows: Mapping[str, float], *, under_limit: bool) -> None:
    node.flags = list(_node_flags(node, table_rows, under_limit))
    for child in node.children:
        _flag_tree(child, table_rows, under_limit=under_limit or node.node_type == "Limit")


def _node_flags(node: PlanNode, table_rows: Mapping[str, float], under_limit: bool) -> Iterator[Flag]:
    if "Seq Scan" in node.node_type and node.relation:
        size = table_rows.get(node.relation, 0)
        if size >= LARGE_TABLE_ROWS:
            yield Flag(
                "seq_scan_large_table",
                f"sequential scan of {node.relation} ({size:,.0f} rows): "
                + ("no index serves this filter" if node.raw.get("Filter") else "it reads the whole table"),
                node.relation,
            )
    actual, loops = node.actual_rows, node.loops
    if actual is not None and loops and not under_limit:
        estimated = node.estimated_rows
        low, high = sorted((estimated, actual))
        if high >= MISESTIMATE_MIN_ROWS and high > MISESTIMATE_FACTOR * max(low, 1.0):
            yield Flag(
                "misestimate",
                f"estimated {estimated:,.0f} rows, got {actual:,.0f}: off by {high / max(low, 1.0):,.0f}x",
            )
    if node.raw.get("Sort Space Type") == "Disk" or "external" in str(node.raw.get("Sort Method", "")):
        space = node.raw.get("Sort Space Used")
        yield Flag(
            "sort_spilled",
            f"sort spilled to disk ({node.raw.get('Sort Method')}, {space} kB): work_mem is too small for it",
        )


def _shape(node: PlanNode) -> str:
    if not node.children:
        return node.node_type
    if len(node.children) == 1:
        return f"{node.node_type} > {_shape(node.children[0])}"
    return f"{node.node_type}({', '.join(_shape(child) for child in node.children)})"
