"""The one race loop (`concord.race.loop`) on its own: what it asks its driver to do and what it
accounts, attempt by attempt. The drivers (threads and processes, asyncio, HTTP) are raced
against real servers elsewhere; here a driver is a list of what each attempt does."""

from __future__ import annotations

import gc

import pytest

from concord.errors import LockNotAvailable, SerializationFailure
from concord.locking.retry import RetryPolicy
from concord.race.job import WorkerReport
from concord.race.loop import Abandoned, Fatal, Ledger, heap_frozen, race_loop, retry_kinds
from concord.race.steps import DECLINED, DONE, EXHAUSTED


class Script:
    """A program whose attempts are named in order; the driver looks each one up."""

    def __init__(self, operations: int | None = None) -> None:
        self.operations = operations
        self.asked: list[tuple[int, int]] = []

    def operation(self, worker: int, seq: int):
        if self.operations is not None and seq >= self.operations:
            return None
        self.asked.append((worker, seq))
        return (worker, seq)


def drive(outcomes, *, ops=None, operations=None, max_tries=3, stop_after=None, stop_in_pause=False):
    """Run the loop with each attempt ending as ``outcomes`` says, in order (an exception
    instance: the attempt failed with it). Returns the report, the program and the pauses."""
    report = WorkerReport(worker=2)
    stopped = [False]
    ledger = Ledger(
        report,
        seed=7,
        policy=RetryPolicy(max_tries=max_tries),
        retry_on=retry_kinds(frozenset({LockNotAvailable.kind})),
        trace_cap=100,
        progress=[0] * 6,
        stopping=lambda: stopped[0],
    )
    program, pauses, pending = Script(operations), [], list(outcomes)
    steps = race_loop(program, ops, ledger)
    try:
        step = next(steps)
        while True:
            if step.__class__ is float:
                pauses.append(step)
                step = steps.send(stop_in_pause)
                continue
            ended = pending.pop(0)
            if stop_after is not None and report.attempts + 1 >= stop_after:
                stopped[0] = True
            step = steps.throw(ended) if isinstance(ended, BaseException) else steps.send(ended)
    except StopIteration:
        pass
    return report, program, pauses, ledger


def test_a_conflict_is_retried_with_a_pause_and_the_operation_runs_again_from_its_start():
    report, program, pauses, ledger = drive([SerializationFailure("40001"), DONE], ops=1)
    assert program.asked == [(2, 0), (2, 0)]  # a fresh attempt of operation 0
    assert len(pauses) == 1 and 0 <= pauses[0] <= RetryPolicy().base_delay_s
    assert (report.attempts, report.done, report.retries, report.failures) == (2, 1, 1, 0)
    assert report.conflicts == {"serialization_failure": 1}
    assert ledger.progress == [0, 0, 0, 0, 1, 1]  # worker 2: one commit, one conflict
    assert [line[5] for line in report.traces] == ["serialization_failure", "committed"]
    assert report.latency.count == 1 and report.stopped_at is not None


def test_an_operation_gives_up_after_max_tries_and_the_next_one_runs():
    failures = [LockNotAvailable("55P03")] * 3
    report, program, pauses, _ = drive([*failures, DECLINED], ops=2, max_tries=3)
    assert program.asked == [(2, 0)] * 3 + [(2, 1)]
    assert len(pauses) == 2  # none after the last try
    assert (report.failures, report.retries, report.declined, report.done) == (1, 2, 1, 0)
    assert report.latency.gave_up == 1 and report.latency.count == 2  # the give-up is a latency too


def test_an_error_no_rule_retries_is_fatal_and_ends_the_loop():
    with pytest.raises(Fatal, match=r"^error: boom$"):
        drive([RuntimeError("boom")], ops=3)


def test_an_abandoned_operation_is_reported_and_the_worker_goes_on():
    report, program, pauses, _ = drive([Abandoned("500 oops"), DONE], ops=2)
    assert program.asked == [(2, 0), (2, 1)] and pauses == []
    assert (report.abandoned, report.errors, report.done, report.failures) == (1, ["500 oops"], 1, 0)
    assert report.latency.count == 1  # an abandoned operation has no latency


def test_nothing_left_ends_the_loop_and_an_exhausted_commit_is_no_operation():
    report, program, _, _ = drive([DONE, EXHAUSTED])
    assert report.exhausted and (report.done, report.attempts, report.empty_commits) == (1, 1, 1)
    report, program, _, _ = drive([DONE], operations=1)
    assert report.exhausted and program.asked == [(2, 0)]


def test_a_stop_asked_during_a_pause_ends_the_loop_without_another_attempt():
    report, program, pauses, _ = drive([SerializationFailure("40001")], stop_in_pause=True)
    assert len(pauses) == 1 and program.asked == [(2, 0)]
    assert (report.attempts, report.retries, report.done) == (1, 1, 0)


def test_a_stop_asked_during_an_attempt_ends_the_loop_after_it():
    report, program, _, _ = drive([DONE, DONE, DONE], stop_after=2)
    assert program.asked == [(2, 0), (2, 1)] and report.done == 2


def test_traces_get_wall_clock_times_when_the_loop_ends():
    import time

    before = time.time()
    report, *_ = drive([DONE], ops=1)
    [(worker, seq, attempt, started, ended, outcome, state)] = report.traces
    assert (worker, seq, attempt, outcome, state) == (2, 0, 1, "committed", None)
    assert before - 1 < started <= ended <= time.time() + 1


def test_every_latency_is_counted_across_the_batches_and_every_trace_line_is_whole():
    from concord.race.loop import LATENCY_BATCH

    operations = 2 * LATENCY_BATCH + 3  # two full batches, then the rest when the loop ends
    outcomes = [LockNotAvailable("held"), *[DONE] * operations]
    report, _, pauses, _ = drive(outcomes, ops=operations)
    assert (report.done, report.attempts, report.latency.count, len(pauses)) == (
        operations, operations + 1, operations, 1,
    )  # fmt: skip
    assert len(report.traces) == 100 and report.traces_dropped == operations + 1 - 100
    first, second = report.traces[:2]
    assert (first[:3], first[5:]) == ((2, 0, 1), ("lock_not_available", "55P03"))
    assert (second[:3], second[5:]) == ((2, 0, 2), ("committed", None))
    assert all(len(line) == 7 and line[0] == 2 for line in report.traces)


def test_heap_frozen_keeps_the_objects_that_exist_out_of_collections_and_hands_them_back():
    gc.unfreeze()  # whatever an earlier test left frozen
    before: list[int] = []  # a container: tracked by the collector
    tracked = len(gc.get_objects())
    with heap_frozen():
        assert gc.get_freeze_count() >= tracked
        assert not any(o is before for o in gc.get_objects())  # frozen objects are in no generation
    assert gc.get_freeze_count() == 0
    assert any(o is before for o in gc.get_objects())


def test_heap_frozen_leaves_a_process_that_froze_its_own_objects_as_it_was():
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with heap_frozen():
            pass
        assert gc.get_freeze_count() >= frozen  # not handed back: the process's owner froze them
    finally:
        gc.unfreeze()
