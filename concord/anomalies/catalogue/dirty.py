"""G0 (dirty write), G1a (aborted read), G1b (intermediate read), G1c (circular information flow).

Adya's G0 and G1 family: a transaction overwrites, or reads, what another has not committed.
Every script uses Hermitage's table: x is row 1 (10) and y is row 2 (20).
"""

from __future__ import annotations

from concord.anomalies.script import (
    TWO_ROWS,
    AnomalyTest,
    Finding,
    Inconclusive,
    begin,
    commit,
    rollback,
    sql,
)
from concord.anomalies.transcript import Transcript

READ_ALL = "SELECT id, value FROM test ORDER BY id"


def check_write_cycle(t: Transcript) -> Finding:
    """x and y must end up written by the same transaction; a mix means the writes interleaved."""
    final = t.values("final")
    if final is None:
        raise Inconclusive("the final read of x and y did not return")
    writer: dict[int | None, str] = {10: "nobody", 11: "T1", 12: "T2", 20: "nobody", 21: "T1", 22: "T2"}
    x_by, y_by = writer.get(final.get(1), "?"), writer.get(final.get(2), "?")
    seen = f"final x = {final.get(1)} ({x_by}), y = {final.get(2)} ({y_by})"
    if {x_by, y_by} == {"T1", "T2"}:
        return Finding(True, f"{seen}: T2 overwrote T1 on x but T1 overwrote T2 on y, a write cycle")
    return Finding(False, f"{seen}: one transaction's writes won on both rows, no write cycle")


def _dirty_values(t: Transcript, labels: tuple[str, ...], dirty: int, why: str) -> Finding:
    reads = {label: t.values(label) for label in labels}
    shown = "; ".join(f"{label}: x = {'-' if v is None else v.get(1)}" for label, v in reads.items())
    if any(v is not None and v.get(1) == dirty for v in reads.values()):
        return Finding(True, f"{shown}: T2 read {dirty}, {why}")
    return Finding(False, f"{shown}: T2 never read {dirty}, {why}")


def check_aborted_read(t: Transcript) -> Finding:
    return _dirty_values(
        t,
        ("T2 reads during T1", "T2 reads after T1 rolled back"),
        101,
        "a value T1 wrote and then rolled back",
    )


def check_intermediate_read(t: Transcript) -> Finding:
    return _dirty_values(
        t,
        ("T2 reads during T1", "T2 reads after T1 committed"),
        101,
        "a value T1 overwrote (with 11) before committing",
    )


def check_circular_flow(t: Transcript) -> Finding:
    """Each read the other's uncommitted write: information flowed both ways, a wr cycle."""
    y_seen, x_seen = t.value("T1 reads y"), t.value("T2 reads x")
    seen = f"T1 read y = {y_seen}, T2 read x = {x_seen}"
    if y_seen == 22 and x_seen == 11:
        return Finding(True, f"{seen}: each saw the other's uncommitted write, a cycle T1 -> T2 -> T1")
    return Finding(False, f"{seen}: neither saw the other's write before it committed")


G0 = AnomalyTest(
    "G0",
    "write cycle",
    "Dirty write",
    "T1 and T2 both write x and y; their writes must not interleave so that each overwrites the other.",
    TWO_ROWS,
    (
        begin("T1"),
        begin("T2"),
        sql("T1", "UPDATE test SET value = 11 WHERE id = 1"),
        sql("T2", "UPDATE test SET value = 12 WHERE id = 1"),
        sql("T1", "UPDATE test SET value = 21 WHERE id = 2"),
        commit("T1"),
        sql("T2", "UPDATE test SET value = 22 WHERE id = 2"),
        commit("T2"),
        sql("T3", READ_ALL, "final"),
    ),
    check_write_cycle,
)

G1A = AnomalyTest(
    "G1a",
    "aborted read",
    "Aborted read",
    "T2 must never read a value written by T1, which T1 then rolls back.",
    TWO_ROWS,
    (
        begin("T1"),
        begin("T2"),
        sql("T1", "UPDATE test SET value = 101 WHERE id = 1"),
        sql("T2", READ_ALL, "T2 reads during T1"),
        rollback("T1"),
        sql("T2", READ_ALL, "T2 reads after T1 rolled back"),
        commit("T2"),
    ),
    check_aborted_read,
)

G1B = AnomalyTest(
    "G1b",
    "intermediate read",
    "Intermediate read",
    "T2 must never read a value T1 wrote and then overwrote itself before committing.",
    TWO_ROWS,
    (
        begin("T1"),
        begin("T2"),
        sql("T1", "UPDATE test SET value = 101 WHERE id = 1"),
        sql("T2", READ_ALL, "T2 reads during T1"),
        sql("T1", "UPDATE test SET value = 11 WHERE id = 1"),
        commit("T1"),
        sql("T2", READ_ALL, "T2 reads after T1 committed"),
        commit("T2"),
    ),
    check_intermediate_read,
)

G1C = AnomalyTest(
    "G1c",
    "circular information flow",
    "Circular information flow",
    "T1 writes x and reads y while T2 writes y and reads x; each must not see the other's uncommitted write.",
    TWO_ROWS,
    (
        begin("T1"),
        begin("T2"),
        sql("T1", "UPDATE test SET value = 11 WHERE id = 1"),
        sql("T2", "UPDATE test SET value = 22 WHERE id = 2"),
        sql("T1", "SELECT value FROM test WHERE id = 2", "T1 reads y"),
        sql("T2", "SELECT value FROM test WHERE id = 1", "T2 reads x"),
        commit("T1"),
        commit("T2"),
    ),
    check_circular_flow,
)

TESTS = (G0, G1A, G1B, G1C)
