"""G2-item (write skew) and G2 (anti-dependency cycles over predicate reads).

Each transaction reads something the other then writes, and both commit: T1 must come before T2
(T1 did not see T2's write) and T2 before T1 (T2 did not see T1's), so no serial order explains it.
"""

from __future__ import annotations

from concord.anomalies.script import TWO_ROWS, AnomalyTest, Finding, begin, commit, computed, sql
from concord.anomalies.transcript import Transcript

READ_BOTH = "SELECT id, value FROM test WHERE id IN (1, 2) ORDER BY id"


def check_write_skew(t: Transcript) -> Finding:
    """Both committed, and each read the other's row before the other's write."""
    t1, t2 = t.values("T1 reads x and y"), t.values("T2 reads x and y")
    both = t.committed("T1") and t.committed("T2")
    if not both or t1 is None or t2 is None:
        return Finding(False, _who_committed(t, ("T1", "T2")) + ": no cycle can form")
    t1_missed, t2_missed = t1.get(2) == 20, t2.get(1) == 10
    seen = f"both committed; T1 read y = {t1.get(2)} (T2 wrote 21), T2 read x = {t2.get(1)} (T1 wrote 11)"
    if t1_missed and t2_missed:
        return Finding(True, f"{seen}: each missed the other's write, an anti-dependency cycle")
    return Finding(False, f"{seen}: one saw the other's write, so they ran in an order")


def check_predicate_skew(t: Transcript) -> Finding:
    """Both committed, and neither's predicate read saw the matching row the other inserted."""
    t1, t2 = t.values("T1 reads value % 3 = 0"), t.values("T2 reads value % 3 = 0")
    if not (t.committed("T1") and t.committed("T2")) or t1 is None or t2 is None:
        return Finding(False, _who_committed(t, ("T1", "T2")) + ": no cycle can form")
    seen = f"both committed; T1's read returned {sorted(t1)}, T2's returned {sorted(t2)}"
    if 4 not in t1 and 3 not in t2:
        return Finding(True, f"{seen}: each missed the row the other inserted (ids 4, 3), a predicate cycle")
    return Finding(False, f"{seen}: one saw the other's row, so they ran in an order")


def check_read_only_skew(t: Transcript) -> Finding:
    """Fekete et al.: T3 sees T1's deposit but not T2's withdrawal, while T2 did not see the deposit."""
    sessions = ("T1", "T2", "T3")
    t2_view, t3_view = t.values("T2 reads x and y"), t.values("T3 reads x and y")
    if not all(t.committed(s) for s in sessions) or t2_view is None or t3_view is None:
        return Finding(False, _who_committed(t, sessions) + ": no cycle can form")
    withdrawn = t.value("T2 withdrawal")
    seen = (
        f"all committed; T2 read y = {t2_view[2]} and wrote x = {withdrawn}; "
        f"T3 read x = {t3_view[1]}, y = {t3_view[2]}"
    )
    if t2_view[2] == 0 and t3_view[2] == 20 and t3_view[1] == 0:
        return Finding(True, f"{seen}: T3 saw T1 without T2, T2 did not see T1; T2 < T1 < T3 < T2 is a cycle")
    return Finding(False, f"{seen}: the three fit one serial order")


def _who_committed(t: Transcript, sessions: tuple[str, ...]) -> str:
    done = [s for s in sessions if t.committed(s)]
    return f"only {', '.join(done) or 'none'} of {', '.join(sessions)} committed"


def _withdraw(t: Transcript) -> tuple[int]:
    """Take 10 from savings, with a penalty of 1 if the total would go negative (in T2's view)."""
    view = t.values("T2 reads x and y") or {}
    x, y = view[1], view[2]
    return (x - 10 - (1 if x + y - 10 < 0 else 0),)


G2_ITEM = AnomalyTest(
    "G2-item",
    "write skew",
    "Write skew",
    "T1 and T2 both read x and y, then T1 writes x and T2 writes y; both must not commit on stale reads.",
    TWO_ROWS,
    (
        begin("T1"),
        begin("T2"),
        sql("T1", READ_BOTH, "T1 reads x and y"),
        sql("T2", READ_BOTH, "T2 reads x and y"),
        sql("T1", "UPDATE test SET value = 11 WHERE id = 1"),
        sql("T2", "UPDATE test SET value = 21 WHERE id = 2"),
        commit("T1"),
        commit("T2"),
    ),
    check_write_skew,
)

G2_PREDICATE = AnomalyTest(
    "G2",
    "predicate read",
    "Anti-dependency cycle",
    "T1 and T2 each find no row with value % 3 = 0 and each insert one; both must not commit.",
    TWO_ROWS,
    (
        begin("T1"),
        begin("T2"),
        sql("T1", "SELECT id, value FROM test WHERE value % 3 = 0", "T1 reads value % 3 = 0"),
        sql("T2", "SELECT id, value FROM test WHERE value % 3 = 0", "T2 reads value % 3 = 0"),
        sql("T1", "INSERT INTO test (id, value) VALUES (3, 30)"),
        sql("T2", "INSERT INTO test (id, value) VALUES (4, 42)"),
        commit("T1"),
        commit("T2"),
    ),
    check_predicate_skew,
)

G2_READ_ONLY = AnomalyTest(
    "G2",
    "read-only transaction",
    "Anti-dependency cycle",
    "Savings x and checking y start at 0. T2 withdraws 10 from x (penalty 1 if x + y goes negative), "
    "T1 deposits 20 into y, read-only T3 reads both (Fekete, O'Neil and O'Neil).",
    (
        "CREATE TABLE test (id int PRIMARY KEY, value int NOT NULL)",
        "INSERT INTO test (id, value) VALUES (1, 0), (2, 0)",
    ),
    (
        begin("T2"),
        sql("T2", READ_BOTH, "T2 reads x and y"),
        begin("T1"),
        sql("T1", "UPDATE test SET value = value + 20 WHERE id = 2"),
        commit("T1"),
        begin("T3"),
        sql("T3", READ_BOTH, "T3 reads x and y"),
        commit("T3"),
        computed("T2", "UPDATE test SET value = %s WHERE id = 1 RETURNING value", "T2 withdrawal", _withdraw),
        commit("T2"),
    ),
    check_read_only_skew,
)

TESTS = (G2_ITEM, G2_PREDICATE, G2_READ_ONLY)
