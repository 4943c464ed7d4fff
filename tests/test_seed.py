"""`concord seed`: exact counts, reproducible rows, skew, and a database that still works after."""

from __future__ import annotations

import statistics

import psycopg
import pytest
from cli_runner import on
from conftest import libpq

from concord.errors import InvalidInput
from concord.seed import DatabaseNotEmpty, ExistingData, NotEnoughSpace, SeedPlan, draws, seed
from concord.seed import space as space_module
from concord.seed.generate import Rows
from concord.seed.space import estimate
from concord.services import tasks as task_service

SMALL = SeedPlan(boards=4, lists_per_board=3, tasks=900, users=7, seed=11)

# Generated columns only: boards, lists and users keep the server's now() as created_at.
FINGERPRINT = """
SELECT md5(string_agg(concat_ws('|', id, list_id, title, position, status, points, assignee_id, created_at),
                      ',' ORDER BY id)) FROM tasks"""


def query(url, sql: str, *args) -> list[tuple]:
    with psycopg.connect(libpq(url)) as conn:
        return conn.execute(sql, args or None).fetchall()


def table_counts(url) -> dict[str, int]:
    return {
        t: query(url, f"SELECT count(*) FROM {t}")[0][0]
        for t in ("users", "boards", "task_lists", "tasks", "activity")
    }


def schema_objects(url) -> list[tuple]:
    return query(
        url,
        """SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
                          WHERE connamespace = 'public'::regnamespace
                         UNION ALL SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'
                         ORDER BY 1, 2""",
    )


def test_seeding_loads_exactly_the_planned_rows(database_url):
    report = seed(database_url, SMALL)

    assert table_counts(database_url) == {
        "users": 7,
        "boards": 4,
        "task_lists": 12,
        "tasks": 900,
        "activity": 900,
    }
    assert report.rows == table_counts(database_url)
    assert report.total_rows == 1823
    assert report.fresh is True


def test_the_same_seed_gives_the_same_rows_and_another_seed_does_not(database_url, empty_database_url):
    seed(database_url, SMALL)
    seed(empty_database_url, SMALL)  # migrated on the way: an empty database is fine too
    first, second = query(database_url, FINGERPRINT), query(empty_database_url, FINGERPRINT)

    seed(empty_database_url, SeedPlan(**{**SMALL.__dict__, "seed": 12}), existing=ExistingData.RESET)

    assert first == second
    assert query(empty_database_url, FINGERPRINT) != first


def test_the_generator_is_a_pure_function_of_the_plan():
    def tasks(plan: SeedPlan) -> list[tuple]:
        rows = Rows(plan)
        return list(rows.tasks())

    assert tasks(SMALL) == tasks(SMALL)
    assert tasks(SMALL)[:3] != tasks(SeedPlan(**{**SMALL.__dict__, "seed": 12}))[:3]


def test_the_rows_the_server_stores_are_the_generators_rows(database_url):
    seed(database_url, SMALL)

    stored = query(
        database_url,
        "SELECT id, list_id, title, position, status, points, assignee_id, created_at, updated_at "
        "FROM tasks ORDER BY id",
    )
    entries = query(
        database_url, "SELECT id, board_id, task_id, action, created_at FROM activity ORDER BY id"
    )

    assert stored == list(Rows(SMALL).tasks())
    assert entries == list(Rows(SMALL).activity())


def test_every_activity_entry_is_on_the_board_of_its_task(database_url):
    seed(database_url, SMALL)

    assert query(
        database_url,
        "SELECT count(*) FROM activity a JOIN tasks t ON t.id = a.task_id "
        "JOIN task_lists l ON l.id = t.list_id WHERE l.board_id = a.board_id AND a.created_at = t.created_at",
    ) == [(900,)]


def test_the_rows_do_not_depend_on_the_chunk_size(monkeypatch):
    whole = list(Rows(SMALL).tasks())
    monkeypatch.setattr(draws, "CHUNK", 7)

    assert list(Rows(SMALL).tasks()) == whole


def test_with_the_default_shape_the_busiest_list_holds_about_two_percent(database_url):
    seed(database_url, SeedPlan(tasks=100_000))

    [(busiest,)] = query(
        database_url, "SELECT max(n) FROM (SELECT count(*) AS n FROM tasks GROUP BY list_id) s"
    )
    statuses = dict(query(database_url, "SELECT status, count(*) FROM tasks GROUP BY status"))

    assert 0.01 < busiest / 100_000 < 0.03
    assert {status: round(n / 100_000, 2) for status, n in statuses.items()} == pytest.approx(
        {"done": 0.55, "todo": 0.30, "doing": 0.15}, abs=0.01
    )


def test_sizes_assignees_and_statuses_are_skewed(database_url):
    seed(database_url, SeedPlan(boards=10, lists_per_board=6, tasks=6_000, users=40, seed=5))
    per_list = [n for (n,) in query(database_url, "SELECT count(*) FROM tasks GROUP BY list_id")]
    per_user = [
        n
        for (n,) in query(
            database_url, "SELECT count(*) FROM tasks WHERE assignee_id IS NOT NULL GROUP BY assignee_id"
        )
    ]
    [(unassigned,)] = query(database_url, "SELECT count(*) FROM tasks WHERE assignee_id IS NULL")
    statuses = dict(query(database_url, "SELECT status, count(*) FROM tasks GROUP BY status"))

    assert max(per_list) > 2 * statistics.median(per_list) > 3 * min(per_list)
    assert max(per_user) > 2 * statistics.median(per_user)
    assert 0.2 < unassigned / 6_000 < 0.3
    assert set(statuses) == {"todo", "doing", "done"}
    assert statuses["done"] > statuses["todo"] > statuses["doing"]


def test_positions_in_each_list_count_up_from_zero(database_url):
    seed(database_url, SMALL)

    gaps = query(
        database_url,
        "SELECT list_id FROM tasks GROUP BY list_id "
        "HAVING min(position) <> 0 OR max(position) <> count(*) - 1",
    )
    assert gaps == []


def test_a_fresh_load_puts_back_every_index_and_constraint_it_dropped(database_url):
    before = schema_objects(database_url)

    seed(database_url, SMALL)

    assert schema_objects(database_url) == before


def test_a_database_with_data_is_refused_unless_appending_or_resetting(database_url):
    seed(database_url, SMALL)

    with pytest.raises(DatabaseNotEmpty, match="pass --append to add to it or --reset to replace it"):
        seed(database_url, SMALL)

    assert table_counts(database_url)["tasks"] == 900


def test_appending_numbers_rows_after_the_existing_ones_and_crud_still_works(db, database_url):
    seed(database_url, SMALL)

    report = seed(database_url, SMALL, existing=ExistingData.APPEND)
    task = db.transact(task_service.create_task, 1, "after the seed")

    assert report.fresh is False
    assert table_counts(database_url) == {
        "users": 14,
        "boards": 8,
        "task_lists": 24,
        "tasks": 1801,
        "activity": 1801,
    }
    assert query(database_url, "SELECT id FROM tasks WHERE title LIKE '%#1800'") == [(1800,)]
    assert task.id == 1801
    assert query(
        database_url,
        "SELECT count(*) FROM tasks t JOIN task_lists l ON l.id = t.list_id "
        "WHERE t.id BETWEEN 901 AND 1800 AND l.id <= 12",
    ) == [(0,)]


def test_resetting_replaces_the_data_and_restarts_the_ids(database_url):
    seed(database_url, SMALL)

    seed(database_url, SMALL, existing=ExistingData.RESET)

    assert table_counts(database_url)["tasks"] == 900
    assert query(database_url, "SELECT min(id), max(id) FROM tasks") == [(1, 900)]


def test_the_command_prints_rows_per_second_and_refuses_a_second_run(database_url):
    args = ("seed", "--boards", "2", "--lists-per-board", "2", "--tasks", "100", "--users", "3")

    first = on(database_url, *args, "--json")
    again = on(database_url, *args)
    both = on(database_url, *args, "--append", "--reset")

    assert first.exit_code == 0, first.stderr
    document = first.json()
    assert document["rows"] == {"users": 3, "boards": 2, "task_lists": 4, "tasks": 100, "activity": 100}
    assert document["total_rows"] == 209
    assert document["rows_per_second"] > 0
    assert set(document["phases"]) == {"copy", "analyze", "indexes", "keys", "commit", "indexes_and_keys"}
    assert (again.exit_code, again.stderr) == (
        2,
        "concord: the database already holds data: pass --append to add to it or --reset to replace it\n",
    )
    assert (both.exit_code, both.stderr) == (2, "concord: choose one of --append and --reset\n")


def test_the_command_shows_rows_per_second_to_people(database_url):
    args = ("--boards", "1", "--lists-per-board", "1", "--tasks", "10", "--users", "1")
    done = on(database_url, "seed", *args)

    assert done.exit_code == 0, done.stderr
    assert "seeded 1 users, 1 boards, 1 task_lists, 10 tasks, 10 activity" in done.stdout
    assert "rows/s" in done.stdout


def test_the_report_says_the_estimated_and_the_actual_size(database_url):
    announced = []

    report = seed(database_url, SMALL, announce=announced.append)

    [space] = announced
    assert report.estimated_bytes == space.rows == estimate(SMALL)
    assert (
        report.bytes
        == query(
            database_url,
            "SELECT sum(pg_total_relation_size(t))::int8 "
            "FROM unnest('{users,boards,task_lists,tasks,activity}'::regclass[]) AS t",
        )[0][0]
    )


def test_a_million_tasks_are_estimated_within_a_tenth_of_what_they_take():
    # Measured on a seeded database: 375 MB of tables and indexes for the default plan's million tasks.
    assert abs(estimate(SeedPlan(tasks=1_000_000)) - 375_000_000) < 37_500_000


def test_a_disk_too_small_for_the_seed_is_refused_before_anything_is_loaded(database_url, monkeypatch):
    seed(database_url, SMALL)
    before = table_counts(database_url)
    # Pretend each task takes far more than the server's disk holds: the check is the real one.
    monkeypatch.setattr(space_module, "BYTES_PER_TASK", 2**50)

    refused = r"seeding 900 tasks takes about [0-9,.]+ [GT]B of tables and indexes"
    with pytest.raises(NotEnoughSpace, match=refused):
        seed(database_url, SMALL, existing=ExistingData.RESET)

    assert table_counts(database_url) == before


def test_a_negative_seed_is_refused_by_the_library_and_the_command(database_url):
    with pytest.raises(InvalidInput, match="--seed must be 0 or more, not -1"):
        seed(database_url, SeedPlan(tasks=10, seed=-1))
    refused = on(database_url, "seed", "--tasks", "10", "--seed", "-1")

    assert refused.exit_code == 2
    assert "Invalid value for '--seed'" in refused.stderr
