"""The locking strategies as a library: their statements, keys, errors and retry policy."""

from __future__ import annotations

import random

import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql.psycopg import dialect
from test_race_support import dsn

from concord.errors import InvalidInput, LockNotAvailable, SerializationFailure, StaleVersion, translate
from concord.locking import (
    STRATEGIES,
    EntityKey,
    RetryPolicy,
    advisory_key,
    claim_next_statement,
    classify,
    get_strategy,
    lock_statements,
    run_with_retries,
)
from concord.models import Task

TASKS = Task.__table__


def sql(statement) -> str:
    return " ".join(str(statement.compile(dialect=dialect())).split())


def test_every_strategy_is_found_by_name_and_the_names_are_the_documented_ones():
    names = ["none", "pessimistic", "ordered", "nowait", "skip_locked", "optimistic", "advisory"]
    assert list(STRATEGIES) == names
    assert get_strategy("skip-locked").name == "skip_locked"
    assert get_strategy("NOWAIT").name == "nowait"


def test_an_unknown_strategy_is_invalid_input_naming_the_choices():
    with pytest.raises(InvalidInput) as caught:
        get_strategy("magic")
    assert caught.value.message == (
        "unknown locking strategy 'magic': choose one of none, pessimistic, ordered, nowait, skip_locked, "
        "optimistic, advisory"
    )


def test_each_strategy_exposes_the_statement_that_takes_its_lock():
    found = {name: (None if s is None else sql(s)) for name, s in lock_statements().items()}
    assert found["none"] is None
    assert found["pessimistic"].endswith("WHERE tasks.id = %(id)s::BIGINT FOR UPDATE")
    assert found["nowait"].endswith("FOR UPDATE NOWAIT")
    assert found["skip_locked"].endswith("FOR UPDATE SKIP LOCKED")
    assert found["optimistic"].endswith(
        "WHERE tasks.id = %(id)s::BIGINT AND tasks.version = %(expected_version)s::INTEGER"
    )
    assert found["advisory"] == "SELECT pg_advisory_xact_lock(%(key)s::BIGINT) AS pg_advisory_xact_lock_1"


def test_the_claim_next_statement_takes_the_first_unassigned_task_skipping_held_rows():
    assert sql(claim_next_statement()) == (
        "SELECT tasks.id FROM tasks WHERE tasks.list_id = %(list_id)s::BIGINT AND tasks.assignee_id IS NULL "
        "ORDER BY tasks.position, tasks.id LIMIT %(param_1)s::INTEGER FOR UPDATE SKIP LOCKED"
    )


def test_the_advisory_key_is_a_fixed_signed_int64_per_entity():
    # Fixed forever: other processes, machines and releases must compute the same key.
    assert advisory_key("tasks", 1) == 5469205415448014895
    keys = {advisory_key(ns, i) for ns in ("tasks", "task_lists") for i in range(1000)}
    assert len(keys) == 2000
    assert all(-(2**63) <= k < 2**63 for k in keys)
    assert any(k < 0 for k in keys)  # read as signed, so half the keys are negative


def test_ordered_locking_sorts_keys_and_the_others_keep_the_order_given():
    keys = [EntityKey("task_lists", 9), EntityKey("task_lists", 3)]
    assert get_strategy("ordered").order(keys) == [keys[1], keys[0]]
    assert get_strategy("pessimistic").order(keys) == keys


def test_the_advisory_guard_takes_one_lock_per_key(database_url):
    strategy = get_strategy("advisory")
    engine = sa.create_engine(database_url, poolclass=sa.NullPool)
    with engine.begin() as conn:
        for statement in strategy.guard([EntityKey("tasks", 1), EntityKey("tasks", 2)]):
            conn.execute(statement)
        held = (
            conn.execute(
                sa.text(
                    "SELECT (classid::bigint << 32) | objid::bigint FROM pg_locks "
                    "WHERE locktype = 'advisory' AND pid = pg_backend_pid() ORDER BY 1"
                )
            )
            .scalars()
            .all()
        )
    engine.dispose()
    # pg_locks shows a bigint key as classid (high half) and objid (low half): reassembled, the key.
    assert held == sorted([advisory_key("tasks", 1), advisory_key("tasks", 2)])


def _one_task(database_url) -> int:
    engine = sa.create_engine(database_url, poolclass=sa.NullPool)
    with engine.begin() as conn:
        board = conn.execute(sa.text("INSERT INTO boards (name) VALUES ('b') RETURNING id")).scalar_one()
        lst = conn.execute(
            sa.text("INSERT INTO task_lists (board_id, name) VALUES (:b, 'l') RETURNING id"), {"b": board}
        ).scalar_one()
        task = conn.execute(
            sa.text("INSERT INTO tasks (list_id, title) VALUES (:l, 't') RETURNING id"), {"l": lst}
        ).scalar_one()
    engine.dispose()
    return task


def test_nowait_reports_lock_not_available_when_the_row_is_held(database_url):
    task = _one_task(database_url)
    statement = sql(get_strategy("nowait").lock_statement()).replace("%(id)s::BIGINT", "%s")
    with psycopg.connect(dsn(database_url)) as holder, psycopg.connect(dsn(database_url)) as other:
        holder.execute(statement, (task,))
        with pytest.raises(psycopg.errors.LockNotAvailable) as caught:
            other.execute(statement, (task,))
    assert classify(caught.value) == ("lock_not_available", "55P03")
    assert isinstance(translate(caught.value), LockNotAvailable)


def test_skip_locked_claim_next_skips_a_held_task(database_url):
    first = _one_task(database_url)
    engine = sa.create_engine(database_url, poolclass=sa.NullPool)
    with engine.begin() as conn:
        list_id = conn.execute(sa.select(TASKS.c.list_id).where(TASKS.c.id == first)).scalar_one()
        second = conn.execute(
            sa.text("INSERT INTO tasks (list_id, title, position) VALUES (:l, 'u', 1) RETURNING id"),
            {"l": list_id},
        ).scalar_one()
    with engine.connect() as holder, engine.connect() as other:
        params = {"list_id": list_id, "param_1": 1}
        assert holder.execute(claim_next_statement(), params).scalar_one() == first
        assert other.execute(claim_next_statement(), params).scalar_one() == second
        holder.rollback()
        other.rollback()
    engine.dispose()


def test_an_optimistic_write_that_matches_no_row_raises_stale_version(database_url):
    task = _one_task(database_url)
    strategy = get_strategy("optimistic")
    update = strategy.write(sa.update(TASKS).where(TASKS.c.id == task).values(points=5), TASKS.c.version)
    engine = sa.create_engine(database_url, poolclass=sa.NullPool)
    with engine.begin() as conn:
        assert conn.execute(update, {"expected_version": 1}).rowcount == 1
        stale = conn.execute(update, {"expected_version": 1}).rowcount
    engine.dispose()
    with pytest.raises(StaleVersion) as caught:
        strategy.check_written(stale, "task", task, 1)
    assert caught.value.message == f"task {task} changed since version 1: it was deleted"
    assert classify(caught.value) == ("stale_version", None)


def test_retry_delays_are_jittered_below_an_exponential_cap():
    policy = RetryPolicy(max_tries=8, base_delay_s=0.002, max_delay_s=0.05)
    rng = random.Random(7)
    for attempt in range(1, 9):
        ceiling = min(0.05, 0.002 * 2 ** (attempt - 1))
        delays = [policy.delay(attempt, rng) for _ in range(200)]
        assert all(0 <= d <= ceiling for d in delays)
        assert len(set(delays)) == 200


def test_run_with_retries_retries_serialization_failures_until_max_tries():
    calls, pauses = [], []

    def conflict():
        calls.append(1)
        raise SerializationFailure("could not serialize access", sqlstate="40001")

    with pytest.raises(SerializationFailure):
        run_with_retries(conflict, policy=RetryPolicy(max_tries=4), sleep=pauses.append)
    assert (len(calls), len(pauses)) == (4, 3)


def test_run_with_retries_does_not_retry_what_the_strategy_does_not_expect():
    calls = []

    def held():
        calls.append(1)
        raise LockNotAvailable("held", sqlstate="55P03")

    with pytest.raises(LockNotAvailable):
        run_with_retries(held, sleep=lambda _: None)
    assert len(calls) == 1
    assert run_with_retries(lambda: "ok", retry_on=get_strategy("nowait").retries) == "ok"


def test_a_retry_policy_needs_at_least_one_try():
    with pytest.raises(ValueError, match="max_tries must be at least 1"):
        RetryPolicy(max_tries=0)
