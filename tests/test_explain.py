"""`concord.explain` against a seeded PostgreSQL: the very statements, rolled back, flagged."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
import sqlalchemy as sa
from conftest import create_database, drop_database, libpq
from sqlalchemy import URL

from concord.db.engine import create_engine
from concord.errors import LockNotAvailable
from concord.explain import ExplainUsageError, explain_all, explain_query, explain_sql, registry
from concord.explain.statements import capture
from concord.repositories import (
    ActivityRepository,
    BoardRepository,
    ListRepository,
    TaskRepository,
    UserRepository,
)
from concord.seed import SeedPlan, seed

PLAN = SeedPlan(boards=20, lists_per_board=5, tasks=12_000, users=60, seed=3)


@pytest.fixture(scope="module")
def seeded_url(server_url: URL, template_database: str) -> Iterator[URL]:
    """One database per module with 12,000 seeded tasks: every explain is rolled back, so tests share it."""
    name = f"concord_explain_{uuid.uuid4().hex[:10]}"
    url = create_database(server_url, name, template=template_database)
    seed(url, PLAN)
    yield url
    drop_database(server_url, name)


def counts(url: URL) -> dict[str, object]:
    with psycopg.connect(libpq(url)) as conn:
        return {
            "tasks": conn.execute("SELECT count(*), sum(version), max(updated_at) FROM tasks").fetchone(),
            "activity": conn.execute("SELECT count(*), count(task_id) FROM activity").fetchone(),
            "indexes": conn.execute("SELECT count(*) FROM pg_indexes WHERE schemaname = 'public'").fetchone(),
        }


# The repository call that issues each builder-made query, with the parameter names it takes.
LIBRARY_CALLS = {
    "board_by_id": lambda s, v: BoardRepository(s).get(v["board_id"]),
    "lists_of_board": lambda s, v: ListRepository(s).of_board(v["board_id"]),
    "list_by_id": lambda s, v: ListRepository(s).get(v["list_id"]),
    "task_by_id": lambda s, v: TaskRepository(s).get(v["task_id"]),
    "tasks_in_list": lambda s, v: TaskRepository(s).in_list(v["list_id"]),
    "tasks_by_assignee": lambda s, v: TaskRepository(s).assigned_to(v["user_id"]),
    "wip_count": lambda s, v: ListRepository(s).count_tasks(v["list_id"]),
    "next_task_position": lambda s, v: TaskRepository(s).next_position(v["list_id"]),
    "user_by_name": lambda s, v: UserRepository(s).by_name(v["name"]),
    "activity_feed": lambda s, v: ActivityRepository(s).feed(v["board_id"], v["limit"]),
    "task_for_update": lambda s, v: TaskRepository(s).lock(v["task_id"]),
    "list_for_update": lambda s, v: ListRepository(s).lock(v["list_id"]),
}


@pytest.mark.parametrize("name", sorted(LIBRARY_CALLS))
def test_a_named_query_is_the_statement_the_repository_sends(seeded_url, name):
    entry = registry()[name]
    values = {"board_id": 3, "list_id": 11, "task_id": 42, "user_id": 5, "name": "user-0000005", "limit": 50}
    engine = create_engine(seeded_url, poolclass=sa.NullPool)
    try:
        with engine.connect() as conn, conn.begin():
            [sent] = capture(conn, lambda session: LIBRARY_CALLS[name](session, values), want=99)
            made = entry.statement(conn, {p: values[p] for p in entry.params})
    finally:
        engine.dispose()

    assert made.sql == sent.sql
    assert dict(made.params) == dict(sent.params)


def test_the_registry_holds_each_locking_strategys_statement_and_the_claim_next_query():
    entries = registry()

    names = {name for name in entries if name.startswith("lock.") or name == "claim_next"}
    assert names == {
        "lock.pessimistic",
        "lock.ordered",
        "lock.nowait",
        "lock.optimistic",
        "lock.advisory",
        "claim_next",
    }


def test_the_lock_statements_render_their_locking_clauses(seeded_url):
    sql = {
        name: explain_query(seeded_url, name, analyze=False).statement.sql
        for name in ("claim_next", "lock.nowait", "lock.pessimistic", "lock.advisory", "lock.optimistic")
    }

    assert sql["claim_next"].endswith("FOR UPDATE SKIP LOCKED")
    assert sql["lock.nowait"].endswith("FOR UPDATE NOWAIT")
    assert sql["lock.pessimistic"].endswith("FOR UPDATE")
    assert "pg_advisory_xact_lock" in sql["lock.advisory"]
    assert "tasks.version = %(expected_version)s" in sql["lock.optimistic"]


def test_explaining_a_delete_leaves_every_row_in_place(seeded_url):
    before = counts(seeded_url)

    explained = explain_sql(seeded_url, "DELETE FROM tasks")

    assert explained.plan.root.node_type == "ModifyTable"
    assert explained.plan.root.children[0].actual_rows == PLAN.tasks  # it really ran, then rolled back
    assert counts(seeded_url) == before


def test_explaining_the_task_write_and_delete_changes_nothing(seeded_url):
    before = counts(seeded_url)

    write = explain_query(seeded_url, "task_write")
    delete = explain_query(seeded_url, "task_delete")

    assert write.statement.sql.startswith("UPDATE tasks SET")
    assert delete.statement.sql.startswith("DELETE FROM tasks")
    assert write.plan.root.node_type == delete.plan.root.node_type == "ModifyTable"
    assert counts(seeded_url) == before


def test_without_index_shows_a_different_plan_and_keeps_the_index(seeded_url):
    before = counts(seeded_url)

    comparison = explain_query(seeded_url, "tasks_in_list", without_index="ix_tasks_list_id_position_id")

    assert comparison.with_index.plan.indexes() == ["ix_tasks_list_id_position_id"]
    assert comparison.without_index.plan.indexes() == []
    assert comparison.without_index.plan.seq_scanned() == ["tasks"]
    assert [f.kind for f in comparison.without_index.plan.flags()] == ["seq_scan_large_table"]
    assert comparison.with_index.params == comparison.without_index.params
    assert counts(seeded_url) == before  # the index is back: the drop was rolled back


def test_a_sequential_scan_over_the_seeded_tasks_is_flagged(seeded_url):
    explained = explain_sql(seeded_url, "SELECT * FROM tasks WHERE title LIKE '%#42'")

    assert "seq_scan_large_table" in [f.kind for f in explained.plan.flags()]


def test_a_tenfold_misestimate_is_flagged(seeded_url):
    # No statistics exist on (id % 10): the planner assumes 0.5% of rows match, a tenth do.
    explained = explain_sql(seeded_url, "SELECT id FROM tasks WHERE (id % 10) = 0")

    misestimates = [f for f in explained.plan.flags() if f.kind == "misestimate"]
    assert misestimates, explained.plan.shape()
    assert misestimates[0].message.startswith("estimated 60 rows, got 1,200")


def test_more_than_one_statement_is_refused(seeded_url):
    before = counts(seeded_url)

    with pytest.raises(ExplainUsageError, match="exactly one statement"):
        explain_sql(seeded_url, "SELECT 1; DELETE FROM tasks")

    assert counts(seeded_url) == before


def test_one_statement_with_a_trailing_semicolon_is_accepted(seeded_url):
    assert explain_sql(seeded_url, "SELECT 1;", analyze=False).plan.shape() == "Result"


def test_unknown_queries_indexes_and_parameters_are_refused(seeded_url):
    with pytest.raises(ExplainUsageError, match="unknown query 'nope'"):
        explain_query(seeded_url, "nope")
    with pytest.raises(ExplainUsageError, match="unknown index 'nope'"):
        explain_query(seeded_url, "tasks_in_list", without_index="nope")
    with pytest.raises(ExplainUsageError, match="tasks_in_list takes list_id; not user_id"):
        explain_query(seeded_url, "tasks_in_list", {"user_id": 1})


def test_defaults_are_rows_that_exist(seeded_url):
    explained = explain_query(seeded_url, "task_write")

    task_id, version = explained.params["task_id"], explained.params["expected_version"]
    with psycopg.connect(libpq(seeded_url)) as conn:
        assert conn.execute("SELECT version FROM tasks WHERE id = %s", (task_id,)).fetchone() == (version,)
    assert explained.plan.root.actual_rows == 1  # the compare-and-set matched: it would have written


def test_after_seeding_every_named_query_reading_tasks_uses_an_index(seeded_url):
    explained = explain_all(seeded_url)

    assert len(explained) == len(registry())
    assert [e.name for e in explained if "tasks" in e.plan.seq_scanned()] == []
    reading_tasks = [e for e in explained if "tasks" in e.plan.relations()]
    assert len(reading_tasks) == 17
    assert [e.name for e in reading_tasks if not e.plan.indexes()] == []


def test_dropping_an_index_behind_a_running_transaction_gives_up_after_the_lock_timeout(seeded_url):
    before = counts(seeded_url)
    with psycopg.connect(libpq(seeded_url)) as holder:
        holder.execute("SELECT 1 FROM tasks LIMIT 1")  # an open transaction holding ACCESS SHARE on tasks

        with pytest.raises(LockNotAvailable, match="gave up after 2s waiting for a lock"):
            explain_query(
                seeded_url, "wip_count", without_index="ix_tasks_list_id_position_id", analyze=False
            )

        holder.rollback()
    assert counts(seeded_url) == before
