"""The list-append checker on small histories written by hand, one per anomaly class.

Each history is what a run could have recorded; the assertions name the exact anomaly types,
and for cycles the exact transactions and steps.
"""

from __future__ import annotations

from typing import Any

import pytest

from concord.history import check_history, parse_history


def history(*txns: tuple[str, list[list[Any]]]) -> list[dict[str, Any]]:
    """Completions only (Elle accepts them): transaction i runs as process i, index i."""
    return [{"index": i, "process": i, "type": kind, "value": mops} for i, (kind, mops) in enumerate(txns)]


def check(*txns: tuple[str, list[list[Any]]]):
    return check_history(parse_history(history(*txns), "list-append"))


def ok(*mops: list[Any]) -> tuple[str, list[list[Any]]]:
    return ("ok", list(mops))


def fail(*mops: list[Any]) -> tuple[str, list[list[Any]]]:
    return ("fail", list(mops))


def cycle_of(result, kind: str) -> tuple[list[int], list[dict[str, Any]]]:
    [case] = result.anomalies[kind]
    indices = [op["index"] for op in case["cycle"]]
    assert indices[0] == indices[-1]
    return indices[:-1], case["steps"]


def rotate_to(indices: list[int], steps: list[dict], first: int) -> tuple[list[int], list[dict]]:
    """The cycle starting at transaction ``first`` (a cycle has no natural first element)."""
    i = indices.index(first)
    return indices[i:] + indices[:i], steps[i:] + steps[:i]


def test_g0_is_a_cycle_of_appends_ordered_both_ways():
    result = check(
        ok(["append", "x", 1], ["append", "y", 2]),
        ok(["append", "x", 2], ["append", "y", 1]),
        ok(["r", "x", [1, 2]], ["r", "y", [1, 2]]),
    )
    assert result.document()["anomaly-types"] == ["G0"]
    assert rotate_to(*cycle_of(result, "G0"), 0) == (
        [0, 1],
        [
            {"type": "ww", "key": "x", "value": 1, "value'": 2},
            {"type": "ww", "key": "y", "value": 1, "value'": 2},
        ],
    )
    assert result.document()["not"] == ["read-uncommitted"]


def test_g1a_is_a_read_of_a_failed_append():
    result = check(fail(["append", "x", 1]), ok(["r", "x", [1]]))
    assert result.document()["anomaly-types"] == ["G1a"]
    [case] = result.anomalies["G1a"]
    assert (case["op"]["index"], case["writer"]["index"], case["element"]) == (1, 0, 1)
    assert case["mop"] == ["r", "x", [1]]


def test_g1b_is_a_read_of_an_append_that_was_not_the_last_of_its_transaction():
    result = check(
        ok(["append", "x", 1], ["append", "x", 2]),
        ok(["r", "x", [1]]),
        ok(["r", "x", [1, 2]]),
    )
    [case] = result.anomalies["G1b"]
    assert (case["op"]["index"], case["writer"]["index"], case["element"]) == (1, 0, 1)
    # Reading 1 without 2 also puts the reader both after and before the writer: read skew.
    assert result.document()["anomaly-types"] == ["G-single", "G1b"]


def test_g1c_is_elle_readme_example_with_its_documented_result():
    result = check(
        ok(["append", "x", 1], ["r", "y", [1]]),
        ok(["append", "x", 2], ["append", "y", 1]),
        ok(["r", "x", [1, 2]]),
    )
    document = result.document()
    assert document["valid?"] is False
    assert document["anomaly-types"] == ["G1c"]
    assert document["not"] == ["read-committed"]
    # Elle's README lists these (an older Elle, with fewer models than it knows today).
    readme_also_not = {
        "consistent-view", "cursor-stability", "forward-consistent-view", "monotonic-atomic-view",
        "monotonic-snapshot-read", "monotonic-view", "repeatable-read", "serializable",
        "snapshot-isolation", "strong-serializable", "strong-session-serializable",
        "strong-session-snapshot-isolation", "strong-snapshot-isolation", "update-serializable",
    }  # fmt: skip
    assert readme_also_not <= set(document["also-not"])
    assert rotate_to(*cycle_of(result, "G1c"), 1) == (
        [1, 0],
        [
            {"type": "wr", "key": "y", "value": 1},
            {"type": "ww", "key": "x", "value": 1, "value'": 2},
        ],
    )


def test_g_single_is_read_skew_one_anti_dependency_and_one_read():
    result = check(
        ok(["r", "x", None], ["r", "y", [1]]),
        ok(["append", "x", 1], ["append", "y", 1]),
    )
    assert result.document()["anomaly-types"] == ["G-single"]
    assert rotate_to(*cycle_of(result, "G-single"), 0) == (
        [0, 1],
        [
            {"type": "rw", "key": "x", "value": None, "value'": 1},
            {"type": "wr", "key": "y", "value": 1},
        ],
    )
    assert result.document()["not"] == ["consistent-view"]


def test_g2_item_is_write_skew_each_missed_the_others_append():
    result = check(
        ok(["append", 633, 3], ["r", 632, None]),
        ok(["append", 632, 2], ["r", 633, []]),
    )
    assert result.document()["anomaly-types"] == ["G2-item"]
    assert rotate_to(*cycle_of(result, "G2-item"), 0) == (
        [0, 1],
        [
            {"type": "rw", "key": 632, "value": None, "value'": 2},
            {"type": "rw", "key": 633, "value": None, "value'": 3},
        ],
    )
    assert result.document()["not"] == ["repeatable-read"]
    explanation = result.anomalies["G2-item"][0]["explanation"]
    assert "T1 read key 632 empty, and T2 created it by appending 2" in explanation
    assert "a contradiction!" in explanation


def test_internal_is_a_read_that_misses_the_transactions_own_append():
    result = check(
        ok(["append", "x", 1]),
        ok(["r", "x", [1]], ["append", "x", 2], ["r", "x", [1]]),
    )
    assert result.document()["anomaly-types"] == ["internal"]
    [case] = result.anomalies["internal"]
    assert (case["op"]["index"], case["mop"], case["expected"]) == (1, ["r", "x", [1]], [1, 2])


def test_internal_after_a_blind_append_expects_the_append_at_the_end():
    result = check(ok(["append", "x", 7], ["r", "x", []]))
    [case] = result.anomalies["internal"]
    assert case["expected"] == ["...", 7]


def test_lost_update_is_two_transactions_appending_after_reading_the_same_version():
    result = check(
        ok(["append", "x", 1]),
        ok(["r", "x", [1]], ["append", "x", 2]),
        ok(["r", "x", [1]], ["append", "x", 3]),
        ok(["r", "x", [1, 2, 3]]),
    )
    [case] = result.anomalies["lost-update"]
    assert (case["key"], case["value"], [op["index"] for op in case["txns"]]) == ("x", [1], [1, 2])
    assert result.document()["anomaly-types"] == ["G-single", "lost-update"]
    assert rotate_to(*cycle_of(result, "G-single"), 2) == (
        [2, 1],
        [
            {"type": "rw", "key": "x", "value": 1, "value'": 2},
            {"type": "ww", "key": "x", "value": 2, "value'": 3},
        ],
    )


def test_duplicate_elements_is_a_read_holding_one_append_twice():
    result = check(ok(["append", "x", 1]), ok(["r", "x", [1, 1]]))
    assert result.document()["anomaly-types"] == ["duplicate-elements"]
    [case] = result.anomalies["duplicate-elements"]
    assert (case["op"]["index"], case["duplicates"]) == (1, {"1": 2})


def test_incompatible_order_is_two_reads_neither_a_prefix_of_the_other():
    result = check(
        ok(["append", "x", 1]),
        ok(["append", "x", 2]),
        ok(["r", "x", [1]]),
        ok(["r", "x", [2]]),
    )
    assert result.document()["anomaly-types"] == ["incompatible-order"]
    [case] = result.anomalies["incompatible-order"]
    assert case["key"] == "x"
    assert sorted(case["values"]) == [[1], [2]]


def test_dirty_update_is_a_committed_append_after_a_failed_one():
    result = check(
        fail(["append", "x", 1]),
        ok(["append", "x", 2]),
        ok(["r", "x", [1, 2]]),
    )
    assert result.document()["anomaly-types"] == ["G1a", "dirty-update"]
    [case] = result.anomalies["dirty-update"]
    assert (case["key"], case["values"]) == ("x", [1, 2])
    assert [t if isinstance(t, str) else t["index"] for t in case["txns"]] == [0, "...", 1]


def test_elle_cli_paper_example_is_invalid_with_a_g_single():
    # elle-cli's histories/elle/paper-example.json (its test.sh expects exit 1: not valid).
    completed = [
        [["append", 253, 1], ["append", 253, 3], ["append", 253, 4], ["append", 255, 2],
         ["append", 255, 3], ["append", 255, 4], ["append", 255, 5], ["append", 256, 1],
         ["append", 256, 2]],
        [["append", 255, 8], ["r", 253, [1, 3, 4]]],
        [["append", 256, 4], ["r", 255, [2, 3, 4, 5, 8]], ["r", 256, [1, 2, 4]], ["r", 253, [1, 3, 4]]],
        [["append", 250, 10], ["r", 253, [1, 3, 4]], ["r", 255, [2, 3, 4, 5]], ["append", 256, 3]],
    ]  # fmt: skip
    ops = []
    for value in completed:
        invoked = [[f, k, None if f == "r" else v] for f, k, v in value]
        ops.append({"index": len(ops), "process": 1, "type": "invoke", "value": invoked})
        ops.append({"index": len(ops), "process": 1, "type": "ok", "value": value})
    result = check_history(parse_history(ops, "list-append"))
    assert result.valid is False
    assert result.document()["anomaly-types"] == ["G-single"]
    indices, steps = rotate_to(*cycle_of(result, "G-single"), 7)
    assert indices == [7, 3, 5]
    assert [s["type"] for s in steps] == ["rw", "wr", "ww"]


@pytest.mark.parametrize(
    "ops",
    [
        [
            {"process": 0, "type": "invoke", "value": [["append", "x", 1], ["r", "x", None]]},
            {"process": 0, "type": "ok", "value": [["append", "x", 1], ["r", "x", [1]]]},
            {"process": 0, "type": "invoke", "value": [["r", "x", None], ["append", "y", 5]]},
            {"process": 0, "type": "ok", "value": [["r", "x", [1]], ["append", "y", 5]]},
            {"process": 1, "type": "invoke", "value": [["append", "x", 2]]},
            {"process": 1, "type": "fail", "value": [["append", "x", 2]]},
            {"process": 2, "type": "invoke", "value": [["r", "y", None], ["append", "x", 3]]},
            {"process": 2, "type": "info", "value": [["r", "y", None], ["append", "x", 3]]},
            {"process": 3, "type": "invoke", "value": [["r", "x", None], ["r", "y", None]]},
            {"process": 3, "type": "ok", "value": [["r", "x", [1, 3]], ["r", "y", [5]]]},
        ]
    ],
)
def test_a_serial_history_with_failed_and_unknown_transactions_is_valid(ops):
    result = check_history(parse_history(ops, "list-append"))
    assert result.document() == {"valid?": True, "stats": result.stats}
