"""Each scenario's unsafe control breaks its invariant, with the interleaving forced by the test.

Every race here is ordered statement by statement on real connections (`Racer`): "both read
before either writes" happens because the test executes the reads first, not by luck. Lock waits
are awaited by watching pg_stat_activity, never by sleeping.
"""

from __future__ import annotations

import psycopg
import pytest
from test_race_support import Cell, Racer, in_thread, wait_until_blocked

from concord.errors import StaleVersion
from concord.locking import classify
from concord.race.steps import DECLINED, DONE, Fetch, Status

RC, RR, SER = "read committed", "repeatable read", "serializable"


@pytest.fixture
def racers(database_url):
    made: list[Racer] = []

    def make(isolation: str = RC, count: int = 2) -> list[Racer]:
        new = [Racer(database_url, isolation) for _ in range(count)]
        made.extend(new)
        return new

    yield make
    for racer in made:
        racer.close()


@pytest.fixture
def cell(database_url):
    made: list[Cell] = []

    def make(scenario: str, strategy: str, workers: int = 2) -> Cell:
        made.append(Cell(database_url, scenario, strategy, workers))
        return made[-1]

    yield make
    for c in made:
        c.close()


def test_counter_without_locking_loses_an_update_when_both_read_before_either_writes(cell, racers):
    counter = cell("counter", "none")
    a, b = racers(RC)
    a.start(counter.program.operation(0, 0)).step()  # a reads points = 0
    b.start(counter.program.operation(1, 0)).step()  # b reads points = 0
    assert (a.finish(), b.finish()) == (DONE, DONE)  # both write 1
    found = counter.check({0: [DONE], 1: [DONE]})
    assert (found.violations, found.details["actual"]) == (1, 1)
    assert found.finding == "lost 1 of 2 updates (counter at 1)"


def test_counter_under_repeatable_read_turns_the_lost_update_into_a_serialization_failure(cell, racers):
    counter = cell("counter", "none")
    a, b = racers(RR)
    a.start(counter.program.operation(0, 0)).step()
    b.start(counter.program.operation(1, 0)).step()
    assert a.finish() == DONE
    with pytest.raises(psycopg.errors.SerializationFailure) as caught:
        b.finish()
    assert classify(caught.value) == ("serialization_failure", "40001")


def test_optimistic_counter_write_after_a_concurrent_commit_is_a_stale_version(cell, racers):
    counter = cell("counter", "optimistic")
    a, b = racers(RC)
    a.start(counter.program.operation(0, 0)).step()
    b.start(counter.program.operation(1, 0)).step()
    assert a.finish() == DONE
    with pytest.raises(StaleVersion):
        b.finish()  # its compare-and-set matched no row
    b.rollback()
    assert counter.check({0: [DONE]}).violations == 0


def test_pessimistic_counter_makes_the_second_reader_wait_and_see_the_first_write(database_url, cell, racers):
    counter = cell("counter", "pessimistic")
    a, b = racers(RC)
    a.start(counter.program.operation(0, 0)).step()  # a holds the row
    thread, told = in_thread(lambda: b.start(counter.program.operation(1, 0)).finish())
    wait_until_blocked(database_url, b.pid)
    assert a.finish() == DONE
    thread.join(10)
    assert told == {"result": DONE}
    found = counter.check({0: [DONE], 1: [DONE]})
    assert (found.violations, found.details["actual"]) == (0, 2)


@pytest.mark.parametrize(
    ("strategy", "fetch", "final"),
    [
        ("pessimistic", Fetch.NOTHING, True),
        ("none", Fetch.NOTHING, True),
        ("optimistic", Fetch.ROWCOUNT, False),
    ],
)
def test_a_task_write_asks_for_its_row_count_only_where_it_tells_a_stale_version(
    cell, strategy, fetch, final
):
    """A compare-and-set's row count may still fail the attempt, so only its COMMIT waits for
    the operation; every other task write is final (`Sql.final`)."""
    counter = cell("counter", strategy)
    operation = counter.program.operation(0, 0)
    read, _ = next(operation)
    write, _ = operation.send((0, 1))  # the row read: points 0, version 1
    assert (read.fetch, read.final, write.fetch, write.final) == (Fetch.ROW, False, fetch, final)
    with pytest.raises(StopIteration) as ended:
        operation.send(None if fetch is Fetch.NOTHING else 1)
    assert ended.value.value == DONE


def test_assign_without_locking_tells_two_workers_they_won_the_same_task(cell, racers):
    assign = cell("assign", "none")
    a, b = racers(RC)
    a.start(assign.program.operation(0, 0)).step()  # both see the task unassigned
    b.start(assign.program.operation(1, 0)).step()
    told_a, told_b = a.finish(), b.finish()
    assert (told_a.status, told_b.status) == (Status.DONE, Status.DONE)
    found = assign.check({0: [told_a], 1: [told_b]})
    assert (found.violations, found.details["extra_winners"]) == (1, 1)


def test_assign_with_optimistic_locking_has_one_winner_and_tells_the_loser(cell, racers):
    assign = cell("assign", "optimistic")
    a, b = racers(RC)
    a.start(assign.program.operation(0, 0)).step()
    b.start(assign.program.operation(1, 0)).step()
    told_a = a.finish()
    with pytest.raises(StaleVersion):
        b.finish()
    b.rollback()
    told_b = b.start(assign.program.operation(1, 0)).finish()  # the retry re-reads: taken
    assert (told_a.status, told_b) == (Status.DONE, DECLINED)
    assert assign.check({0: [told_a], 1: [told_b]}).violations == 0


@pytest.mark.parametrize("isolation", [RC, RR])
def test_wip_limit_without_locking_shows_write_skew_below_serializable(cell, racers, isolation):
    wip = cell("wip-limit", "none", workers=3)
    trio = racers(isolation, count=3)
    for worker, racer in enumerate(trio):
        racer.start(wip.program.operation(worker, 0))
        racer.step()  # read the limit (2)
        racer.step()  # count the list: 0 tasks, for all three
    told = {worker: [racer.finish()] for worker, racer in enumerate(trio)}
    assert told == {0: [DONE], 1: [DONE], 2: [DONE]}
    found = wip.check(told)
    assert (found.violations, found.details["lists_over_limit"]) == (1, 1)


def test_wip_limit_under_serializable_aborts_the_skewed_moves(cell, racers):
    wip = cell("wip-limit", "none", workers=3)
    trio = racers(SER, count=3)
    for worker, racer in enumerate(trio):
        racer.start(wip.program.operation(worker, 0))
        racer.step()
        racer.step()
    failures = []
    told: dict[int, list] = {}
    for worker, racer in enumerate(trio):
        try:
            told[worker] = [racer.finish()]
        except psycopg.errors.SerializationFailure as exc:
            failures.append(classify(exc))
            racer.rollback()
    assert told == {0: [DONE]}
    assert failures == [("serialization_failure", "40001")] * 2
    assert wip.check(told).violations == 0


def test_wip_limit_with_the_list_row_locked_serialises_the_count(database_url, cell, racers):
    wip = cell("wip-limit", "pessimistic", workers=3)
    a, b, c = racers(RC, count=3)
    a.start(wip.program.operation(0, 0)).step()  # a locks the list row
    waiting = []
    for worker, racer in ((1, b), (2, c)):
        waiting.append(in_thread(lambda r=racer, w=worker: r.start(wip.program.operation(w, 0)).finish()))
        wait_until_blocked(database_url, racer.pid)
    assert a.finish() == DONE
    for thread, _ in waiting:
        thread.join(10)
    told = {0: [DONE], 1: [waiting[0][1]["result"]], 2: [waiting[1][1]["result"]]}
    assert sorted(o[0].status.value for o in told.values()) == ["declined", "done", "done"]
    assert wip.check(told).violations == 0


def test_claim_queue_without_locking_hands_one_task_to_two_workers(cell, racers):
    queue = cell("claim-queue", "none")
    a, b = racers(RC)
    a.start(queue.program.operation(0, 0)).step()  # both read the head of the backlog
    b.start(queue.program.operation(1, 0)).step()
    told_a, told_b = a.finish(), b.finish()
    assert told_a.payload == told_b.payload
    found = queue.check({0: [told_a], 1: [told_b]})
    assert (found.violations, found.details["claimed_twice"]) == (1, 1)


def test_skip_locked_claims_a_different_task_while_the_head_is_held(cell, racers):
    queue = cell("claim-queue", "skip_locked")
    a, b = racers(RC)
    a.start(queue.program.operation(0, 0)).step()  # a holds the head
    told_b = b.start(queue.program.operation(1, 0)).finish()  # b skips it, no wait
    told_a = a.finish()
    assert (told_a.payload, told_b.payload) == (queue.fixture.tasks[0], queue.fixture.tasks[1])
    assert queue.check({0: [told_a], 1: [told_b]}).violations == 0


def test_transfer_without_locking_moves_one_task_twice(cell, racers):
    transfer = cell("transfer", "none", workers=3)
    a, b = racers(RC)
    a.start(transfer.program.operation(0, 0)).step()  # workers 0 and 2 both move A -> B
    b.start(transfer.program.operation(2, 0)).step()  # and both read the same head task
    told_a, told_b = a.finish(), b.finish()
    found = transfer.check({0: [told_a], 2: [told_b]})
    assert (found.violations, found.details["lost_moves"], found.details["list_a"]) == (1, 1, 49)
    assert found.details["expected_list_a"] == 49  # the one move that moved a task
    assert found.finding == "1 of 2 moves lost: their task was already in the target list"


def test_transfer_counts_lost_moves_in_opposite_directions_instead_of_letting_them_cancel(cell, racers):
    transfer = cell("transfer", "none", workers=4)
    a_to_b, a_to_b_too, b_to_a, b_to_a_too = racers(RC, count=4)
    a_to_b.start(transfer.program.operation(0, 0)).step()  # workers 0 and 2 read A's head
    a_to_b_too.start(transfer.program.operation(2, 0)).step()
    b_to_a.start(transfer.program.operation(1, 0)).step()  # workers 1 and 3 read B's head
    b_to_a_too.start(transfer.program.operation(3, 0)).step()
    told = {w: [r.finish()] for w, r in enumerate([a_to_b, b_to_a, a_to_b_too, b_to_a_too])}
    found = transfer.check(told)
    # The lists still hold 50 + 50: a count of their sizes alone saw no anomaly here.
    assert (found.details["list_a"], found.details["list_b"]) == (50, 50)
    assert (found.violations, found.details["lost_moves"], found.details["moves"]) == (2, 2, 4)


def test_transfer_move_that_waited_for_the_same_task_reports_it_already_moved(database_url, cell, racers):
    transfer = cell("transfer", "none", workers=3)
    a, b = racers(RC)
    a.start(transfer.program.operation(0, 0)).step()  # both read the same head task of A
    b.start(transfer.program.operation(2, 0)).step()
    a.step()  # a moves it to B, not yet committed: it holds the row
    thread, told_b = in_thread(b.finish)
    wait_until_blocked(database_url, b.pid)  # b's write waits for a's row lock
    told_a = a.finish()
    thread.join(10)
    a_list, b_list = transfer.fixture.lists["a"], transfer.fixture.lists["b"]
    assert told_a.payload == (a_list, b_list, a_list)  # a moved it out of A
    assert told_b["result"].payload == (a_list, b_list, b_list)  # b found it in B already
    found = transfer.check({0: [told_a], 2: [told_b["result"]]})
    assert (found.violations, found.details["lost_moves"], found.details["list_a"]) == (1, 1, 49)


def test_optimistic_transfer_write_after_a_concurrent_move_is_a_stale_version(cell, racers):
    transfer = cell("transfer", "optimistic", workers=3)
    a, b = racers(RC)
    a.start(transfer.program.operation(0, 0)).step()
    b.start(transfer.program.operation(2, 0)).step()
    told_a = a.finish()
    with pytest.raises(StaleVersion):
        b.finish()  # its compare-and-set matched no row
    b.rollback()
    assert transfer.check({0: [told_a]}).violations == 0


def finish_or_roll_back(racer: Racer):
    """Finish; if the server aborted the transaction, roll it back so its locks go at once."""
    try:
        return racer.finish()
    except psycopg.Error:
        racer.rollback()
        raise


def test_transfer_locking_lists_in_opposite_orders_deadlocks(cell, racers):
    transfer = cell("transfer", "pessimistic")
    a, b = racers(RC)
    a.start(transfer.program.operation(0, 0)).step()  # worker 0 locks A (moving A -> B)
    b.start(transfer.program.operation(1, 0)).step()  # worker 1 locks B (moving B -> A)
    thread, told_a = in_thread(lambda: finish_or_roll_back(a))  # a waits for B ...
    try:
        told_b = {"result": finish_or_roll_back(b)}  # ... while b waits for A: a cycle
    except psycopg.Error as exc:
        told_b = {"error": exc}
    thread.join(15)
    outcomes = [told_a, told_b]
    errors = [classify(o["error"]) for o in outcomes if "error" in o]
    assert errors == [("deadlock", "40P01")]
    assert [o["result"].status for o in outcomes if "result" in o] == [Status.DONE]


def test_transfer_with_ordered_locking_waits_instead_of_deadlocking(database_url, cell, racers):
    transfer = cell("transfer", "ordered")
    a, b = racers(RC)
    a.start(transfer.program.operation(0, 0)).step()  # worker 0 locks A first
    thread, told_b = in_thread(lambda: b.start(transfer.program.operation(1, 0)).finish())
    wait_until_blocked(database_url, b.pid)  # worker 1 also starts with A, so it waits
    told_a = a.finish()
    thread.join(10)
    assert (told_a.status, told_b["result"].status) == (Status.DONE, Status.DONE)
    assert transfer.check({0: [told_a], 1: [told_b["result"]]}).violations == 0
