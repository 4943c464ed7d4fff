"""OTV (observed transaction vanishes) and PMP (predicate-many-preceders).

Both ask whether a transaction's view moves backwards or splits: once T3 has seen T2's effects it
must not see what T2 overwrote (OTV); a transaction's predicate reads and predicate writes must all
see one state of the table, not some before and some after another transaction (PMP).
"""

from __future__ import annotations

from concord.anomalies.script import TWO_ROWS, AnomalyTest, Finding, begin, commit, sql
from concord.anomalies.transcript import Transcript

# Who wrote which value in the OTV script; T1 and T2 overwrite both rows, T2 after T1.
_OTV_WRITERS = {1: {10: 0, 11: 1, 12: 2}, 2: {20: 0, 19: 1, 18: 2}}
_OTV_READS = (("T3 reads x", 1), ("T3 reads y", 2), ("T3 reads y again", 2), ("T3 reads x again", 1))


def check_vanishing(t: Transcript) -> Finding:
    """T3's reads, in order, must never step back from T2's writes to the T1 values T2 replaced."""
    latest, trail = 0, []
    for label, row in _OTV_READS:
        value = t.value(label)
        if value is None:
            continue
        writer = _OTV_WRITERS[row].get(value, 0)
        trail.append(f"{'xy'[row - 1]} = {value} (T{writer})" if writer else f"{'xy'[row - 1]} = {value}")
        if writer < latest:
            return Finding(
                True,
                f"T3 read {', '.join(trail)}: after seeing T{latest}, T3 saw the T{writer} "
                f"value T{latest} had overwritten, so T{latest} vanished",
            )
        latest = max(latest, writer)
    return Finding(False, f"T3 read {', '.join(trail)}: its view only moved forward")


def check_predicate_reads(t: Transcript) -> Finding:
    """Both of T1's predicate reads cover value = 30: they must agree on whether such a row exists."""
    first, second = t.rows("T1 reads value = 30"), t.rows("T1 reads value % 3 = 0")
    if first is None or second is None:
        return Finding(False, "a read of T1 did not return, so T1 saw no second state")
    before = {row[0] for row in first}
    after = {row[0] for row in second if row[1] == 30}
    seen = f"value = 30 matched {len(before)} row(s), then value % 3 = 0 returned {second}"
    if after - before:
        return Finding(True, f"{seen}: T2's row appeared between two reads of the same transaction")
    return Finding(False, f"{seen}: both reads saw the same state")


def check_predicate_write(t: Transcript) -> Finding:
    """T2's DELETE ... WHERE value = 20 must act on the state T2 read, or fail."""
    read = t.values("T2 reads before deleting")
    deleted = t.rows("T2 deletes value = 20")
    if read is None or deleted is None:
        return Finding(False, "T2's delete did not succeed, so it acted on no state at all")
    expected = sorted(row for row, value in read.items() if value == 20)
    removed = sorted(row[0] for row in deleted)
    after = t.values("T2 reads after deleting")
    seen = f"T2 read rows with value 20: {expected}; its DELETE removed {removed}; then T2 read {after}"
    if removed != expected:
        return Finding(True, f"{seen}: the delete saw neither T2's own state nor a consistent later one")
    return Finding(False, f"{seen}: the delete acted on the state T2 read")


OTV = AnomalyTest(
    "OTV",
    "three sessions",
    "Observed transaction vanishes",
    "T1 then T2 overwrite x and y; T3 reads as they commit and must not go back to T1's values after T2's.",
    TWO_ROWS,
    (
        begin("T1"),
        begin("T2"),
        begin("T3"),
        sql("T1", "UPDATE test SET value = 11 WHERE id = 1"),
        sql("T1", "UPDATE test SET value = 19 WHERE id = 2"),
        sql("T2", "UPDATE test SET value = 12 WHERE id = 1"),
        commit("T1"),
        sql("T3", "SELECT value FROM test WHERE id = 1", "T3 reads x"),
        sql("T2", "UPDATE test SET value = 18 WHERE id = 2"),
        sql("T3", "SELECT value FROM test WHERE id = 2", "T3 reads y"),
        commit("T2"),
        sql("T3", "SELECT value FROM test WHERE id = 2", "T3 reads y again"),
        sql("T3", "SELECT value FROM test WHERE id = 1", "T3 reads x again"),
        commit("T3"),
    ),
    check_vanishing,
)

PMP_READ = AnomalyTest(
    "PMP",
    "predicate read",
    "Predicate-many-preceders",
    "T1 reads by predicate twice while T2 inserts a matching row; both reads must see the same state.",
    TWO_ROWS,
    (
        begin("T1"),
        begin("T2"),
        sql("T1", "SELECT id, value FROM test WHERE value = 30", "T1 reads value = 30"),
        sql("T2", "INSERT INTO test (id, value) VALUES (3, 30)"),
        commit("T2"),
        sql("T1", "SELECT id, value FROM test WHERE value % 3 = 0 ORDER BY id", "T1 reads value % 3 = 0"),
        commit("T1"),
    ),
    check_predicate_reads,
)

PMP_WRITE = AnomalyTest(
    "PMP",
    "predicate write",
    "Predicate-many-preceders",
    "T1 adds 10 to every row while T2 deletes the rows with value 20; T2's delete must use T2's state.",
    TWO_ROWS,
    (
        begin("T1"),
        begin("T2"),
        sql("T1", "UPDATE test SET value = value + 10"),
        sql("T2", "SELECT id, value FROM test ORDER BY id", "T2 reads before deleting"),
        sql("T2", "DELETE FROM test WHERE value = 20 RETURNING id", "T2 deletes value = 20"),
        commit("T1"),
        sql("T2", "SELECT id, value FROM test ORDER BY id", "T2 reads after deleting"),
        commit("T2"),
    ),
    check_predicate_write,
)

TESTS = (OTV, PMP_READ, PMP_WRITE)
