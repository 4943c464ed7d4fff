"""`list-append`: Jepsen's Elle workload, checked by concord's own Elle-style checker.

Each cell gets tables of its own (``id int primary key, val text``), created at setup and
dropped at teardown. Workers run transactions of appends and reads over a few active keys
(`concord.race.scenarios.list_append.program`); every attempt is a transaction of the history. The check
assembles the history from what the workers reported, writes it when asked (Elle's JSON, or
JSON Lines for a ``.jsonl`` file), and runs `concord.history` over it: ``violations`` is the
number of anomalies found, and the finding names them, with the cycles in the details.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from concord.history import check_history, parse_history
from concord.history.recorded import assemble
from concord.locking import LockingStrategy
from concord.race.results import CellTotals
from concord.race.scenarios.list_append.program import ListAppendProgram
from concord.race.scenarios.program import CompiledStrategy
from concord.race.scenarios.scenario import Fixture, InvariantVerdict, Scenario, cell_tag
from concord.race.steps import Fetch, Sql

#: Cycles explained in a cell's details (all of them are in the history file and its check).
EXPLAINED = 3


class ListAppend(Scenario):
    name = "list-append"
    summary = "transactions of appends and reads over a few keys, checked for Elle's anomalies"
    invariant = "the history has no dependency cycle and no list-append anomaly (Elle)"
    default_strategies = ("none",)
    default_isolations = ("read committed", "repeatable read", "serializable")

    def __init__(
        self,
        *,
        keys: int = 8,
        writes_per_key: int = 8,
        max_mops: int = 4,
        tables: int = 3,
        history: Path | str | None = None,
    ) -> None:
        self.keys, self.writes_per_key, self.max_mops, self.tables = keys, writes_per_key, max_mops, tables
        self.history = Path(history) if history is not None else None
        self.cells = 0

    def refusal(self, strategy: LockingStrategy) -> str | None:
        if strategy.name != "none":
            return f"{strategy.name} makes no sense for list-append: it is about isolation levels, use none"
        return None

    def setup(self, conn: sa.Connection, workers: int, ops: int | None) -> Fixture:
        tag = cell_tag()
        for table in _tables(tag, self.tables):
            conn.execute(sa.text(f"CREATE TABLE {table} (id int PRIMARY KEY, val text NOT NULL)"))
        return Fixture(board_id=0, workers=workers, extra={"tag": tag})

    def program(self, strategy: LockingStrategy, fixture: Fixture) -> ListAppendProgram:
        tables = _tables(fixture.extra.get("tag", "0"), self.tables)
        return ListAppendProgram(
            CompiledStrategy.of(strategy),
            fixture,
            # Jepsen's statements for PostgreSQL: an upsert that appends, a read by primary key.
            appends=[
                Sql.of(
                    sa.text(
                        f"INSERT INTO {t} AS t (id, val) VALUES (:id, :v) "
                        "ON CONFLICT (id) DO UPDATE SET val = t.val || ',' || :v"
                    ),
                    Fetch.NOTHING,
                )
                for t in tables
            ],
            reads=[Sql.of(sa.text(f"SELECT val FROM {t} WHERE id = :id"), Fetch.SCALAR) for t in tables],
            keys=self.keys,
            writes_per_key=self.writes_per_key,
            max_mops=self.max_mops,
            seed=int(fixture.extra.get("tag", "0"), 16),
        )

    def check(self, conn: sa.Connection, fixture: Fixture, totals: CellTotals) -> InvariantVerdict:
        ops = assemble(totals.payloads, fixture.workers)
        self.cells += 1
        written = self._write(ops)
        result = check_history(parse_history(ops, "list-append"))
        details: dict[str, Any] = {
            "transactions": result.stats["transactions"],
            "valid": result.valid,
            "anomalies": {kind: len(cases) for kind, cases in result.anomalies.items()},
            "cycles": [c.case()["explanation"] for c in result.cycles[:EXPLAINED]],
            # What each micro-operation ran, for a report that stands on its own (key k lives in
            # table k % tables; the tables are the cell's own and dropped after the check).
            "statements": {
                "append": f"INSERT INTO t AS t (id, val) VALUES (k, v) ON CONFLICT (id) "
                f"DO UPDATE SET val = t.val || ',' || v  -- {self.tables} tables",
                "read": "SELECT val FROM t WHERE id = k",
            },
        }
        if written is not None:
            details["history"] = str(written)
        if result.valid is True:
            return InvariantVerdict(
                0, f"valid: {result.stats['transactions']:,} transactions, no anomaly", details
            )
        found = ", ".join(f"{kind} x{n:,}" for kind, n in details["anomalies"].items())
        ruled_out = ", ".join(result.document()["not"])
        finding = f"{found} in {result.stats['transactions']:,} transactions (not {ruled_out})"
        return InvariantVerdict(result.anomaly_count, finding, details)

    def _write(self, ops: list[dict[str, Any]]) -> Path | None:
        """The history, to ``history`` for the first cell and ``stem.N.suffix`` for cell N > 1."""
        if self.history is None:
            return None
        path = self.history
        if self.cells > 1:
            path = path.with_name(f"{path.stem}.{self.cells}{path.suffix}")
        with path.open("w", encoding="utf-8") as out:
            if path.suffix == ".jsonl":
                out.writelines(json.dumps(op) + "\n" for op in ops)
            else:
                out.write("[\n" + ",\n".join(json.dumps(op) for op in ops) + "\n]\n")
        return path

    def teardown(self, conn: sa.Connection, fixture: Fixture) -> None:
        for table in _tables(fixture.extra.get("tag", "0"), self.tables):
            conn.execute(sa.text(f"DROP TABLE IF EXISTS {table}"))


def _tables(tag: str, count: int) -> list[str]:
    return [f"concord_list_append_{tag}_{i}" for i in range(count)]
