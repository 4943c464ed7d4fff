"""P4 (lost update) and G-single (read skew): cycles with exactly one anti-dependency.

One transaction reads something, another overwrites it and commits, and the first then acts on or
reads the new state as if nothing had happened in between.
"""

from __future__ import annotations

from concord.anomalies.script import (
    TWO_ROWS,
    AnomalyTest,
    Finding,
    Inconclusive,
    begin,
    commit,
    computed,
    sql,
)
from concord.anomalies.transcript import Transcript

START_X = 10  # x's value in TWO_ROWS
TOTAL = 30  # x + y in TWO_ROWS; T2's transfer below keeps it


def check_lost_update(t: Transcript) -> Finding:
    """Every committed increment must show in the final value."""
    final = t.value("final")
    if final is None:
        raise Inconclusive("the final read of x did not return")
    increments = [s for s in ("T1", "T2") if t.succeeded(f"{s} writes x") and t.committed(s)]
    expected = START_X + len(increments)
    seen = f"{len(increments)} increment(s) committed ({', '.join(increments) or 'none'}); final x = {final}"
    if final < expected:
        return Finding(True, f"{seen}, not {expected}: an increment based on a stale read overwrote another")
    return Finding(False, f"{seen}: no increment was lost")


def check_item_skew(t: Transcript) -> Finding:
    """T2 moves 2 from y to x; any state T1 can see consistently has x + y = 30."""
    x, y = t.value("T1 reads x"), t.value("T1 reads y")
    if x is None or y is None:
        return Finding(False, "a read of T1 did not return, so T1 saw no mixed state")
    if x + y != TOTAL:
        return Finding(True, f"T1 read x = {x} and then y = {y}: x + y = {x + y}, a state that never existed")
    return Finding(False, f"T1 read x = {x} and y = {y}: x + y = {TOTAL}, one consistent state")


def check_predicate_skew(t: Transcript) -> Finding:
    """T1's two predicate reads must be answers about one and the same table."""
    first, second = t.values("T1 reads value % 5 = 0"), t.values("T1 reads value % 3 = 0")
    if first is None or second is None:
        return Finding(False, "a read of T1 did not return, so T1 saw no mixed state")
    clashes = [row for row in first.keys() & second.keys() if first[row] != second[row]]
    missing = [row for row, value in first.items() if value % 3 == 0 and row not in second]
    missing += [row for row, value in second.items() if value % 5 == 0 and row not in first]
    seen = f"T1 read {first} for value % 5 = 0, then {second} for value % 3 = 0"
    if clashes or missing:
        rows = sorted(set(clashes + missing))
        return Finding(True, f"{seen}: row(s) {rows} differ between the reads; T2 came between them")
    return Finding(False, f"{seen}: both answers fit one state of the table")


def check_write_predicate_skew(t: Transcript) -> Finding:
    """T1 read x before T2; its DELETE of value = 20 must then find y = 20 (or fail)."""
    x = t.value("T1 reads x")
    deleted = t.rows("T1 deletes value = 20")
    if x is None or deleted is None:
        return Finding(False, "T1's delete did not succeed, so T1 acted on no mixed state")
    removed = sorted(row[0] for row in deleted)
    seen = f"T1 read x = {x}; its DELETE ... WHERE value = 20 removed {removed}"
    if x == START_X and removed != [2]:
        return Finding(True, f"{seen}: T1 read from before T2 but deleted as if after it (y was 18)")
    return Finding(False, f"{seen}: the read and the delete saw the same state")


P4 = AnomalyTest(
    "P4",
    "read-modify-write",
    "Lost update",
    "T1 and T2 each read x and write back what they read plus one; both increments must survive.",
    TWO_ROWS,
    (
        begin("T1"),
        begin("T2"),
        sql("T1", "SELECT value FROM test WHERE id = 1", "T1 reads x"),
        sql("T2", "SELECT value FROM test WHERE id = 1", "T2 reads x"),
        computed(
            "T1",
            "UPDATE test SET value = %s WHERE id = 1",
            "T1 writes x",
            lambda t: (t.value("T1 reads x") + 1,),
        ),
        computed(
            "T2",
            "UPDATE test SET value = %s WHERE id = 1",
            "T2 writes x",
            lambda t: (t.value("T2 reads x") + 1,),
        ),
        commit("T1"),
        commit("T2"),
        sql("T3", "SELECT value FROM test WHERE id = 1", "final"),
    ),
    check_lost_update,
)

_TRANSFER = (
    sql("T2", "SELECT id, value FROM test ORDER BY id"),
    sql("T2", "UPDATE test SET value = 12 WHERE id = 1"),
    sql("T2", "UPDATE test SET value = 18 WHERE id = 2"),
    commit("T2"),
)

G_SINGLE_ITEM = AnomalyTest(
    "G-single",
    "item read",
    "Read skew",
    "T2 moves 2 from y to x while T1 reads x, then y; T1 must see x + y = 30.",
    TWO_ROWS,
    (
        begin("T1"),
        begin("T2"),
        sql("T1", "SELECT value FROM test WHERE id = 1", "T1 reads x"),
        *_TRANSFER,
        sql("T1", "SELECT value FROM test WHERE id = 2", "T1 reads y"),
        commit("T1"),
    ),
    check_item_skew,
)

G_SINGLE_PREDICATE = AnomalyTest(
    "G-single",
    "predicate read",
    "Read skew",
    "T1 reads by two predicates while T2 changes x from 10 to 12; both answers must describe one table.",
    TWO_ROWS,
    (
        begin("T1"),
        begin("T2"),
        sql("T1", "SELECT id, value FROM test WHERE value % 5 = 0 ORDER BY id", "T1 reads value % 5 = 0"),
        sql("T2", "UPDATE test SET value = 12 WHERE value = 10"),
        commit("T2"),
        sql("T1", "SELECT id, value FROM test WHERE value % 3 = 0 ORDER BY id", "T1 reads value % 3 = 0"),
        commit("T1"),
    ),
    check_predicate_skew,
)

G_SINGLE_WRITE = AnomalyTest(
    "G-single",
    "write predicate",
    "Read skew",
    "T1 reads x, T2 moves 2 from y to x, then T1 deletes where value = 20; T1 must act on the state it read.",
    TWO_ROWS,
    (
        begin("T1"),
        begin("T2"),
        sql("T1", "SELECT value FROM test WHERE id = 1", "T1 reads x"),
        *_TRANSFER,
        sql("T1", "DELETE FROM test WHERE value = 20 RETURNING id", "T1 deletes value = 20"),
        commit("T1"),
    ),
    check_write_predicate_skew,
)

TESTS = (P4, G_SINGLE_ITEM, G_SINGLE_PREDICATE, G_SINGLE_WRITE)
