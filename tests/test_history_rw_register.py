"""The rw-register checker on histories written by hand: what can be inferred, and no more."""

from __future__ import annotations

from typing import Any

from concord.history import check_history, parse_history


def check(*txns: tuple[str, list[list[Any]]]):
    ops = [{"index": i, "process": i, "type": kind, "value": mops} for i, (kind, mops) in enumerate(txns)]
    return check_history(parse_history(ops, "rw-register"))


def steps(result, kind: str) -> list[tuple[int, dict]]:
    [case] = result.anomalies[kind]
    return sorted((op["index"], step) for op, step in zip(case["cycle"], case["steps"], strict=False))


def test_elle_cli_rw_register_example_is_valid_as_its_documentation_says():
    ops = [
        {"type": "invoke", "f": "txn", "value": [["w", "x", 2]], "process": 0, "index": 1},
        {"type": "ok", "f": "txn", "value": [["w", "x", 2]], "process": 0, "index": 2},
        {"type": "invoke", "f": "txn", "value": [["r", "x", None]], "process": 0, "index": 3},
        {"type": "ok", "f": "txn", "value": [["r", "x", 3]], "process": 0, "index": 4},
        {"type": "invoke", "f": "txn", "value": [["r", "x", None]], "process": 0, "index": 5},
        {"type": "ok", "f": "txn", "value": [["r", "x", 2]], "process": 0, "index": 6},
    ]
    assert check_history(parse_history(ops, "rw-register")).document()["valid?"] is True


def test_write_skew_on_registers_is_g2_item():
    result = check(("ok", [["r", "x", None], ["w", "y", 1]]), ("ok", [["r", "y", None], ["w", "x", 1]]))
    assert result.document()["anomaly-types"] == ["G2-item"]
    assert steps(result, "G2-item") == [
        (0, {"type": "rw", "key": "x", "value": None, "value'": 1}),
        (1, {"type": "rw", "key": "y", "value": None, "value'": 1}),
    ]


def test_read_skew_on_registers_is_g_single():
    result = check(("ok", [["r", "x", None], ["r", "y", 1]]), ("ok", [["w", "x", 1], ["w", "y", 1]]))
    assert result.document()["anomaly-types"] == ["G-single"]
    assert steps(result, "G-single") == [
        (0, {"type": "rw", "key": "x", "value": None, "value'": 1}),
        (1, {"type": "wr", "key": "y", "value": 1}),
    ]


def test_writes_that_follow_reads_order_versions_into_a_g0():
    result = check(
        ("ok", [["r", "y", 1], ["w", "x", 1], ["w", "y", 2]]),
        ("ok", [["r", "x", 1], ["w", "y", 1], ["w", "x", 2]]),
    )
    assert result.document()["anomaly-types"] == ["G0"]
    assert steps(result, "G0") == [
        (0, {"type": "ww", "key": "x", "value": 1, "value'": 2}),
        (1, {"type": "ww", "key": "y", "value": 1, "value'": 2}),
    ]


def test_reads_of_failed_and_intermediate_writes_are_g1a_and_g1b():
    result = check(
        ("fail", [["w", "x", 1]]),
        ("ok", [["w", "y", 1], ["w", "y", 2]]),
        ("ok", [["r", "x", 1], ["r", "y", 1]]),
    )
    [g1a] = result.anomalies["G1a"]
    [g1b] = result.anomalies["G1b"]
    assert (g1a["writer"]["index"], g1a["element"]) == (0, 1)
    assert (g1b["writer"]["index"], g1b["element"]) == (1, 1)


def test_a_read_after_the_transactions_own_write_must_see_it():
    result = check(("ok", [["w", "x", 1], ["r", "x", None]]))
    assert result.document()["anomaly-types"] == ["internal"]
    [case] = result.anomalies["internal"]
    assert case["expected"] == 1
