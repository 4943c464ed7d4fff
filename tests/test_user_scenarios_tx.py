"""What `tx` does under each strategy, seen from the server: the row lock, the advisory key, the
count a check may return with its sentences."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest
from cli_runner import url_text
from test_race_support import dsn
from user_scenario_files import write

from concord.locking import get_strategy
from concord.locking.keys import advisory_key
from concord.race.scenarios.user.scenario import row_lock_clause
from concord.testing import race

COUNTER = """
name = "one-row"
invariant = "v counts the transactions"

def setup(conn):
    conn.execute("CREATE TABLE IF NOT EXISTS t (id int PRIMARY KEY, v int NOT NULL)")
    conn.execute("INSERT INTO t VALUES (1, 0) ON CONFLICT DO NOTHING")

def transaction(tx):
    tx.lock("t", 1)
    (v,) = tx.read("t", 1, ["v"])
    tx.write("t", 1, {"v": v + 1})

def check(conn):
    (v,) = conn.execute("SELECT v FROM t WHERE id = 1").fetchone()
    return (v, [f"v is {v}"]) if v else []
"""


@pytest.mark.parametrize(
    ("strategy", "clause"),
    [
        ("none", ""),
        ("optimistic", ""),
        ("advisory", ""),
        ("pessimistic", "FOR UPDATE"),
        ("ordered", "FOR UPDATE"),
        ("nowait", "FOR UPDATE NOWAIT"),
    ],
)
def test_tx_lock_takes_the_row_lock_the_strategys_own_read_takes(strategy, clause):
    assert row_lock_clause(get_strategy(strategy)) == clause


def holding(url, statement: str, params=()) -> psycopg.Connection:
    conn = psycopg.connect(dsn(url))
    conn.execute("CREATE TABLE IF NOT EXISTS t (id int PRIMARY KEY, v int NOT NULL)")
    conn.execute("INSERT INTO t VALUES (1, 0) ON CONFLICT DO NOTHING")
    conn.commit()
    conn.execute(statement, params)  # held until the test commits
    return conn


def test_nowait_fails_at_once_on_a_held_row_and_counts_it(database_url, tmp_path):
    scenario = str(write(tmp_path, COUNTER, "one_row.py"))
    held = holding(database_url, "SELECT * FROM t WHERE id = 1 FOR UPDATE")
    try:
        outcome = race(
            scenario, strategy="nowait", workers=1, ops=1, max_tries=1, database_url=url_text(database_url)
        )
    finally:
        held.close()
    assert (outcome.commits, outcome.conflicts["lock_not_available"], outcome.cell.failures) == (0, 1, 1)


def test_advisory_waits_on_concords_documented_key_for_the_table_and_key(database_url, tmp_path):
    scenario = str(write(tmp_path, COUNTER, "one_row.py"))
    key = advisory_key("t", 1)
    held = holding(database_url, "SELECT pg_advisory_xact_lock(%s)", (key,))
    found: dict = {}
    racer = threading.Thread(
        target=lambda: found.update(
            outcome=race(scenario, strategy="advisory", workers=1, ops=1, database_url=url_text(database_url))
        )
    )
    racer.start()
    try:
        waiting = """SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database
                     WHERE d.datname = current_database() AND l.locktype = 'advisory' AND NOT l.granted
                       AND l.objsubid = 1 AND ((l.classid::bigint << 32) | l.objid::bigint) = %s"""
        deadline = time.monotonic() + 20
        with psycopg.connect(dsn(database_url), autocommit=True) as watcher:
            while watcher.execute(waiting, (key,)).fetchone()[0] != 1:  # the worker waits on our key
                assert time.monotonic() < deadline and racer.is_alive(), "the worker never waited on the key"
                time.sleep(0.01)
    finally:
        held.commit()
        held.close()
        racer.join(30)
    assert (found["outcome"].commits, found["outcome"].violations) == (1, 1)  # v went from 0 to 1


def test_a_check_may_return_a_count_with_its_sentences(database_url, tmp_path):
    scenario = str(write(tmp_path, COUNTER, "one_row.py"))
    outcome = race(scenario, strategy="pessimistic", workers=2, ops=6, database_url=url_text(database_url))
    assert (outcome.holds, outcome.violations, outcome.findings, outcome.explanation) == (
        False,
        6,
        ["v is 6"],
        "v is 6",
    )


def test_values_of_other_types_go_through_psycopgs_adapters_and_count_the_same(database_url, tmp_path):
    # int, str and None are sent as text through the worker's prepared statements; a Decimal
    # (or any other type) through psycopg's cursor, whose adapters know it.
    text = "import decimal\n" + COUNTER.replace('{"v": v + 1}', '{"v": decimal.Decimal(v + 1)}')
    scenario = str(write(tmp_path, text, "one_row.py"))
    outcome = race(scenario, strategy="pessimistic", workers=2, ops=6, database_url=url_text(database_url))
    assert (outcome.violations, outcome.findings) == (6, ["v is 6"])
