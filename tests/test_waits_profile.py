"""The wait profile's bookkeeping on samples made by hand: shares, blocking edges, chains, the
longest wait, the NOWAIT log's holders, sweeps' merging and the words that describe them."""

from __future__ import annotations

import pytest

from concord.race.waits.describe import blocking_line, edge_lines, honesty_line, server_line, top_wait
from concord.race.waits.merge import merge_server, merge_waits
from concord.race.waits.nowait_log import parse_failures
from concord.race.waits.profile import (
    CLIENT_IDLE,
    CPU,
    IDLE_IN_TRANSACTION,
    NO_SESSION,
    Row,
    WaitTally,
    key_of,
    longest_chain,
)
from concord.race.waits.server import mismatches, reconcile

WORKERS = {101: 0, 102: 1, 103: 2}


def lock(pid: int, *blockers: int, event: str = "transactionid", started: str = "t1") -> Row:
    return Row(pid, "Lock", event, "active", started, blockers)


def test_each_backend_state_gets_its_own_key_with_the_clients_time_kept_apart():
    assert key_of(Row(1, None, None, "active")) == CPU
    assert key_of(Row(1, "Client", "ClientRead", "idle")) == CLIENT_IDLE
    assert key_of(Row(1, "Client", "ClientRead", "idle in transaction")) == IDLE_IN_TRANSACTION
    assert key_of(Row(1, None, None, "idle in transaction (aborted)")) == IDLE_IN_TRANSACTION
    assert key_of(Row(1, None, None, "idle")) == CLIENT_IDLE
    assert key_of(lock(1, 2)) == "Lock:transactionid"
    assert key_of(Row(1, "IO", "WalSync", "active")) == "IO:WalSync"


def test_shares_are_slots_over_samples_times_workers_and_a_missing_backend_is_no_session():
    tally = WaitTally(WORKERS)
    tally.add(
        0.00, [lock(101, 102), Row(102, None, None, "active"), Row(103, "Client", "ClientRead", "idle")]
    )
    tally.add(0.01, [lock(101, 102), Row(102, "IO", "WalSync", "active")])  # 103 has gone
    summary = tally.summary(0.01)
    assert summary["samples"] == 2
    assert summary["profile"] == {
        "Lock:transactionid": round(2 / 6, 4),
        CPU: round(1 / 6, 4),
        CLIENT_IDLE: round(1 / 6, 4),
        "IO:WalSync": round(1 / 6, 4),
        NO_SESSION: round(1 / 6, 4),
    }
    assert summary["groups"]["lock"] == round(2 / 6, 4)
    assert top_wait(summary) == "Lock:transactionid 33%"


def test_blocking_edges_name_workers_and_count_the_samples_that_saw_them():
    tally = WaitTally(WORKERS)
    tally.add(0.00, [lock(101, 102), lock(103, 101, 102), Row(102, None, None, "active")])
    tally.add(0.01, [lock(101, 102), Row(102, None, None, "active"), Row(103, None, None, "active")])
    tally.add(0.02, [lock(101, 999)])  # a session that is no worker of the cell
    summary = tally.summary(0.01)
    assert summary["blocking"] == [
        {"waiter": 0, "holder": 1, "samples": 2},
        {"waiter": 2, "holder": 0, "samples": 1},
        {"waiter": 2, "holder": 1, "samples": 1},
        {"waiter": 0, "holder": None, "samples": 1, "holder_pid": 999},
    ]
    assert summary["max_waiters"] == 2
    assert summary["longest_chain"] == 3  # worker 2 -> worker 0 -> worker 1
    assert summary["hottest_holder"] == {"worker": 1, "pid": 102, "samples": 3}
    assert edge_lines(summary, limit=1) == ["worker 0 waited for worker 1 in 2 samples"]


def test_the_longest_wait_runs_from_first_to_last_sample_of_one_statement_plus_an_interval():
    tally = WaitTally(WORKERS)
    for n in range(4):  # one wait of worker 0, seen four times
        tally.add(n * 0.01, [lock(101, 102), Row(102, None, None, "active")])
    tally.add(0.04, [lock(101, 102, started="t2")])  # a new statement: a new wait
    longest = tally.summary(0.01)["longest_wait_ms"]
    assert longest == {"ms": 40.0, "event": "Lock:transactionid", "worker": 0}


def test_a_deadlock_caught_between_two_checks_ends_the_chain_instead_of_looping():
    assert longest_chain({1: (2,), 2: (3,), 3: (1,)}) == 3
    assert longest_chain({1: (2, 3), 2: (3,), 3: ()}) == 3
    assert longest_chain({}) == 0


def test_a_queue_of_fifty_waiters_is_walked_once_per_waiter():
    # pg_blocking_pids names every waiter queued ahead: a dense graph, still a chain of 50
    waits = {n: tuple(range(n)) for n in range(1, 50)}
    assert longest_chain(waits) == 50


def test_the_nowait_log_pairs_each_failure_with_its_holders():
    lines = [
        "2026-01-01 00:00:00.000 UTC [101] LOG:  process 101 could not obtain ShareLock on transaction 7",
        "2026-01-01 00:00:00.000 UTC [101] DETAIL:  Process holding the lock: 102, Wait queue: .",
        "2026-01-01 00:00:00.000 UTC [101] STATEMENT:  SELECT ... FOR UPDATE NOWAIT",
        "2026-01-01 00:00:00.001 UTC [500] LOG:  process 500 could not obtain ShareLock on transaction 8",
        "2026-01-01 00:00:00.001 UTC [500] DETAIL:  Process holding the lock: 101, Wait queue: .",
        "2026-01-01 00:00:00.002 UTC [103] LOG:  process 103 could not obtain ExclusiveLock on tuple (0,1)",
        "2026-01-01 00:00:00.002 UTC [103] DETAIL:  Processes holding the lock: 102, 777, Wait queue: 101.",
    ]
    assert parse_failures(lines, WORKERS) == {
        "logged": 2,
        "holders": [
            {"waiter": 0, "holder": 1, "failures": 1},
            {"waiter": 2, "holder": 1, "failures": 1},
            {"waiter": 2, "holder": None, "failures": 1},
        ],
    }


def test_server_counters_are_set_against_the_clients_and_a_mismatch_is_spelled_out():
    found = reconcile(
        {"deadlocks": 3, "xact_rollback": 10, "xact_commit": 52},
        {"deadlocks": 3, "rollbacks": 10, "commits": 50},
    )
    assert [(r["counter"], r["server"], r["clients"], r["match"]) for r in found] == [
        ("deadlocks", 3, 3, True),
        ("xact_rollback", 10, 10, True),
        ("xact_commit", 52, 50, False),
    ]
    [line] = mismatches(found)
    assert line.startswith("xact_commit: server 52, clients 50 (other sessions of the database commit too")
    text = server_line({"reconciliation": found, "mismatches": [line]})
    assert text is not None
    assert "deadlocks 3 = clients' 3" in text and "xact_commit 52 ≠ clients' 50" in text


def test_a_sweep_cell_weighs_its_runs_profiles_by_their_samples_and_sums_the_counters():
    a = {"samples": 100, "interval_ms": 10.0, "profile": {"Lock:tuple": 0.5, CPU: 0.5}, "max_waiters": 3}
    b = {"samples": 300, "interval_ms": 10.0, "profile": {CPU: 1.0}, "max_waiters": 5}
    merged = merge_waits([a, None, b])
    assert merged is not None
    assert merged["samples"] == 400 and merged["runs"] == 2 and merged["max_waiters"] == 5
    assert merged["profile"] == {CPU: pytest.approx(0.875), "Lock:tuple": pytest.approx(0.125)}
    servers = [
        {
            "deadlocks": 1,
            "reconciliation": [{"counter": "deadlocks", "server": 1, "clients": 1, "match": True}],
        },
        {
            "deadlocks": 2,
            "reconciliation": [{"counter": "deadlocks", "server": 2, "clients": 1, "match": False}],
        },
    ]
    summed = merge_server(servers)
    assert summed is not None
    assert summed["deadlocks"] == 3
    assert summed["reconciliation"] == [{"counter": "deadlocks", "server": 3, "clients": 2, "match": False}]
    assert summed["mismatches"] == ["deadlocks: server 3, clients 2"]
    assert merge_waits([None, None]) is None


def test_the_honesty_line_says_the_samples_the_interval_and_what_sampling_misses():
    line = honesty_line({"samples": 300, "workers_sampled": 8, "interval_ms": 10.0, "mean_interval_ms": 10.1})
    assert line.startswith("300 samples of 8 workers, every 10 ms:")
    assert "waits shorter than 10 ms are undercounted" in line
    assert blocking_line({"max_waiters": 0}) == "no lock waits seen"
