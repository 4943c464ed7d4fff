"""From what racing workers report to an Elle history: pure, no server."""

from __future__ import annotations

from concord.history import check_history, parse_history
from concord.history.recorded import assemble
from concord.race.scenarios.list_append.program import ListAppendProgram
from concord.race.scenarios.program import CompiledStrategy, Fixture
from concord.race.steps import Fetch, Sql, Status

STRATEGY = CompiledStrategy("none", False, False, None, None)


def test_each_worker_keeps_its_order_and_every_invocation_precedes_its_completion():
    payloads = [
        (0, [("fail", 1.0, 1.5, (("append", 1, 2),)), ("ok", 2.0, 2.5, (("append", 1, 4), ("r", 1, [4])))]),
        (1, [("ok", 1.2, 3.0, (("r", 1, None),))]),
    ]
    ops = assemble(payloads, workers=2)
    assert [(op["process"], op["type"]) for op in ops] == [
        (0, "invoke"), (1, "invoke"), (0, "fail"), (0, "invoke"), (0, "ok"), (1, "ok"),
    ]  # fmt: skip
    assert [op["index"] for op in ops] == list(range(6))
    assert ops[2]["value"] == [["append", 1, 2]] and ops[3]["value"] == [["append", 1, 4], ["r", 1, None]]
    assert check_history(parse_history(ops)).valid is True


def test_an_observed_append_nobody_reported_becomes_an_info_transaction_of_its_worker():
    # Worker 1 (values n * 2 + 1) died at COMMIT: its append of 3 was read, never reported.
    payloads = [(0, [("ok", 1.0, 2.0, (("r", 5, [3]),))])]
    ops = assemble(payloads, workers=2)
    assert [(op["process"], op["type"], op["value"]) for op in ops[-2:]] == [
        (1, "invoke", [["append", 5, 3]]),
        (1, "info", [["append", 5, 3]]),
    ]
    assert check_history(parse_history(ops)).valid is True


def test_a_retried_attempt_is_reported_failed_with_the_attempt_that_committed():
    sql = Sql("SELECT 1", Fetch.SCALAR)
    program = ListAppendProgram(
        STRATEGY, Fixture(board_id=0, workers=1), appends=[sql], reads=[sql], keys=1,
        writes_per_key=8, max_mops=1, seed=1,
    )  # fmt: skip

    def run(seq: int, fail: bool):
        operation = program.operation(0, seq)
        step = next(operation)
        try:
            while True:
                if fail:
                    operation.close()  # the statement raised: the worker rolls back
                    return None
                step = operation.send("" if step[1].get("v") is None else None)
        except StopIteration as done:
            return done.value

    assert run(0, fail=True) is None
    outcome = run(0, fail=False)
    assert outcome.status is Status.DONE
    assert [record[0] for record in outcome.payload] == ["fail", "ok"]
    assert [record[0] for record in run(1, fail=False).payload] == ["ok"]  # the rest was reported
