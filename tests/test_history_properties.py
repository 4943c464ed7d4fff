"""Properties of the checker: a history that ran one transaction at a time is always valid.

Hypothesis draws transactions of appends and reads over a few keys and runs them serially
against a dictionary of lists; some fail (their appends never happen) and some end ``info``
(they may or may not have happened). Whatever the draw, the checker must find nothing.
"""

from __future__ import annotations

from history_support import confirm
from hypothesis import given, settings
from hypothesis import strategies as st

from concord.history import check_history, parse_history

mop = st.tuples(st.sampled_from(["append", "r"]), st.integers(0, 3))
txn = st.tuples(st.lists(mop, min_size=1, max_size=5), st.sampled_from(["ok", "ok", "ok", "fail", "info"]))


def run_serially(drawn, info_applied: list[bool]) -> list[dict]:
    state: dict[int, list[int]] = {}
    ops, counter = [], 0
    for process, ((mops, outcome), applied) in enumerate(zip(drawn, info_applied, strict=False)):
        committed = outcome == "ok" or (outcome == "info" and applied)
        view = {k: list(v) for k, v in state.items()}  # the transaction's own view
        invoked, completed = [], []
        for f, key in mops:
            if f == "append":
                counter += 1
                view.setdefault(key, []).append(counter)
                invoked.append(["append", key, counter])
                completed.append(["append", key, counter])
            else:
                invoked.append(["r", key, None])
                completed.append(["r", key, list(view[key]) if key in view else None])
        if committed:
            state = view
        ops.append({"process": process, "type": "invoke", "value": invoked})
        value = invoked if outcome != "ok" else completed  # a fail or info completion knows no reads
        ops.append({"process": process, "type": outcome, "value": value})
    return ops


@settings(max_examples=300, deadline=None)
@given(st.lists(txn, min_size=1, max_size=25), st.lists(st.booleans(), min_size=25, max_size=25))
def test_a_serial_history_is_always_valid(drawn, info_applied):
    ops = run_serially(drawn, info_applied)
    result = check_history(parse_history(ops, "list-append"))
    assert result.valid is True, result.document()
    assert result.anomalies == {}


register_mop = st.tuples(st.sampled_from(["w", "r"]), st.integers(0, 3))


register_txn = st.tuples(
    st.lists(register_mop, min_size=1, max_size=5), st.sampled_from(["ok", "ok", "fail"])
)


@settings(max_examples=200, deadline=None)
@given(st.lists(register_txn))
def test_a_serial_register_history_is_always_valid(drawn):
    state: dict[int, int] = {}
    ops, counter = [], 0
    for process, (mops, outcome) in enumerate(drawn):
        view, value = dict(state), []
        for f, key in mops:
            if f == "w":
                counter += 1
                view[key] = counter
                value.append(["w", key, counter])
            else:
                value.append(["r", key, view.get(key)])
        if outcome == "ok":
            state = view
        ops.append({"process": process, "type": outcome, "value": value})
    result = check_history(parse_history(ops, "rw-register"))
    assert result.valid is True, result.document()


def run_concurrently(plan: list[tuple[list, int]]) -> list[dict]:
    """Transactions interleaved by ``plan`` (each: its micro-operations and when it commits, in
    steps), reading committed data and their own appends, applying appends at commit."""
    state: dict[int, list[int]] = {}
    ops, counter, running = [], 0, []
    for process, (mops, lasts) in enumerate(plan):
        value = []
        for f, key in mops:
            counter += f == "append"
            value.append([f, key, counter if f == "append" else None])
        ops.append({"process": process, "type": "invoke", "value": [list(m) for m in value]})
        running.append({"process": process, "value": value, "next": 0, "left": lasts, "own": {}})
        for txn in list(running):  # every running transaction takes one step
            if txn["next"] < len(txn["value"]):
                f, key, v = txn["value"][txn["next"]]
                if f == "append":
                    txn["own"].setdefault(key, []).append(v)
                else:
                    seen = state.get(key, []) + txn["own"].get(key, [])
                    txn["value"][txn["next"]] = ["r", key, seen or None]
                txn["next"] += 1
            elif txn["left"] <= 0:
                for key, values in txn["own"].items():
                    state.setdefault(key, []).extend(values)
                ops.append({"process": txn["process"], "type": "ok", "value": txn["value"]})
                running.remove(txn)
            txn["left"] -= 1
    for index, op in enumerate(ops):
        op["index"] = index
    return ops  # those still running at the end never completed: info


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.lists(mop, min_size=1, max_size=4), st.integers(0, 6)), min_size=2, max_size=30))
def test_every_step_of_every_cycle_found_in_a_concurrent_history_is_in_the_history(plan):
    ops = run_concurrently(plan)
    result = check_history(parse_history(ops, "list-append"))
    completed = [op for op in ops if op["type"] != "invoke"]
    for kind in ("G0", "G1c", "G-single", "G2-item"):
        for case in result.anomalies.get(kind, []):
            members = case["cycle"]
            assert len({op["index"] for op in members[:-1]}) == len(members) - 1  # a simple cycle
            for i, step in enumerate(case["steps"]):
                confirm(step, members[i], members[i + 1], completed)
