"""`concord explain` and `concord db indexes` through the real error policy: --json shapes, exit codes."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from cli_runner import on
from conftest import create_database, drop_database
from sqlalchemy import URL

from concord.explain import registry
from concord.seed import SeedPlan, seed


@pytest.fixture(scope="module")
def seeded_url(server_url: URL, template_database: str) -> Iterator[URL]:
    name = f"concord_explain_cli_{uuid.uuid4().hex[:10]}"
    url = create_database(server_url, name, template=template_database)
    seed(url, SeedPlan(boards=10, lists_per_board=4, tasks=11_000, users=30, seed=9))
    yield url
    drop_database(server_url, name)


def test_without_arguments_it_lists_every_named_query_with_defaults_from_the_data(seeded_url):
    listed = on(seeded_url, "explain", "--json")

    assert listed.exit_code == 0, listed.stderr
    entries = listed.json()
    assert [e["name"] for e in entries] == list(registry())
    by_name = {e["name"]: e for e in entries}
    assert set(by_name["tasks_in_list"]) == {"name", "description", "params"}
    assert list(by_name["task_write"]["params"]) == ["task_id", "expected_version"]
    assert by_name["activity_feed"]["params"]["limit"] == 50
    assert by_name["all_boards"]["params"] == {}


def test_one_query_prints_its_statement_parameters_and_plan_document(seeded_url):
    shown = on(seeded_url, "explain", "tasks_in_list", "--param", "list_id=3", "--json")

    assert shown.exit_code == 0, shown.stderr
    document = shown.json()
    assert set(document) == {
        "name",
        "description",
        "sql",
        "params",
        "analyzed",
        "shape",
        "indexes",
        "seq_scans",
        "execution_ms",
        "planning_ms",
        "flags",
        "plan",
    }
    assert document["params"] == {"list_id": 3}
    assert document["analyzed"] is True
    assert document["indexes"] == ["ix_tasks_list_id_position_id"]
    [plan] = document["plan"]
    assert {"Plan", "Planning Time", "Execution Time"} <= set(plan)
    assert "Actual Rows" in plan["Plan"]


def test_no_analyze_plans_without_executing(seeded_url):
    shown = on(seeded_url, "explain", "task_delete", "--no-analyze", "--json")

    document = shown.json()
    assert document["analyzed"] is False
    assert document["execution_ms"] is None
    assert "Actual Rows" not in document["plan"][0]["Plan"]


def test_all_prints_one_summary_row_per_query(seeded_url):
    summary = on(seeded_url, "explain", "--all", "--json")

    assert summary.exit_code == 0, summary.stderr
    rows = summary.json()
    assert [r["name"] for r in rows] == list(registry())
    assert set(rows[0]) == {"name", "shape", "indexes", "seq_scans", "execution_ms", "flags", "params"}
    assert [r["name"] for r in rows if "tasks" in r["seq_scans"]] == []


def test_all_draws_a_table_for_people(seeded_url):
    summary = on(seeded_url, "explain", "--all")

    assert summary.exit_code == 0, summary.stderr
    assert "claim_next" in summary.stdout
    assert "ix_tasks_unassigned_list_id_position" in summary.stdout


def test_one_plan_draws_a_tree_for_people(seeded_url):
    shown = on(seeded_url, "explain", "wip_count")

    assert shown.exit_code == 0, shown.stderr
    assert "EXPLAIN ANALYZE wip_count (rolled back)" in shown.stdout
    # The planner may pick an index-only or a bitmap scan (it depends on the visibility map after
    # the seed); either way the tree names the index on tasks.
    assert "ix_tasks_list_id_position_id" in shown.stdout
    assert "on tasks" in shown.stdout


def test_without_index_prints_both_plans(seeded_url):
    both = on(seeded_url, "explain", "wip_count", "--without-index", "ix_tasks_list_id_position_id", "--json")

    assert both.exit_code == 0, both.stderr
    document = both.json()
    assert set(document) == {"index", "with_index", "without_index"}
    assert document["with_index"]["indexes"] == ["ix_tasks_list_id_position_id"]
    assert document["without_index"]["seq_scans"] == ["tasks"]


def test_sql_explains_one_statement(seeded_url):
    shown = on(seeded_url, "explain", "--sql", "SELECT count(*) FROM tasks WHERE title LIKE 'Fix%'", "--json")

    assert shown.exit_code == 0, shown.stderr
    assert shown.json()["seq_scans"] == ["tasks"]
    assert [f["kind"] for f in shown.json()["flags"]] == ["seq_scan_large_table"]


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("explain", "nope"), 2, "unknown query 'nope': run `concord explain` to list them"),
        (
            ("explain", "tasks_in_list", "--without-index", "nope"),
            2,
            "unknown index 'nope': `concord db indexes` lists them",
        ),
        (
            ("explain", "tasks_in_list", "--param", "list_id=x"),
            2,
            "parameter list_id takes an integer, not 'x'",
        ),
        (
            ("explain", "tasks_in_list", "--param", "colour=red"),
            2,
            "unknown parameter 'colour': known are list_id, board_id, user_id, name, task_id, "
            "expected_version, limit, key",
        ),
        (
            ("explain", "--sql", "SELECT 1; DELETE FROM tasks"),
            2,
            "--sql takes exactly one statement, and this holds more than one",
        ),
        (
            ("explain", "--sql", "SELEC 1"),
            2,
            'the server refused the statement: syntax error at or near "SELEC"',
        ),
        (
            ("explain", "--sql", "SELECT * FROM nope"),
            2,
            'the server refused the statement: relation "nope" does not exist',
        ),
        (("explain", "--sql", "SELECT 1/0"), 1, "division by zero"),
        (
            ("explain", "--sql", "drop table tasks"),
            2,
            "EXPLAIN cannot run DROP: it plans only SELECT, INSERT, UPDATE, DELETE, MERGE, VALUES, "
            "EXECUTE, DECLARE and CREATE TABLE AS",
        ),
        (
            ("explain", "--sql", "SELECT 1", "--all"),
            2,
            "--sql goes alone: not with a query name, --all, --param or --without-index",
        ),
        (("explain", "--without-index", "pk_tasks"), 2, "--param and --without-index need a query name"),
    ],
)
def test_bad_input_gets_one_line_and_an_exit_code(seeded_url, args, code, message):
    failed = on(seeded_url, *args)

    assert (failed.exit_code, failed.stderr) == (code, f"concord: {message}\n")
    assert failed.stdout == ""


def test_db_indexes_finds_every_foreign_key_supported_and_every_index_earning_its_place(seeded_url):
    audited = on(seeded_url, "db", "indexes", "--json")

    assert audited.exit_code == 0, audited.stderr
    report = audited.json()
    assert report["problems"] == []
    assert {fk["constraint"]: fk["index"] for fk in report["foreign_keys"]} == {
        "fk_activity_board_id_boards": "ix_activity_board_id_created_at_id",
        "fk_activity_task_id_tasks": "ix_activity_task_id",
        "fk_task_lists_board_id_boards": "ix_task_lists_board_id_position",
        "fk_tasks_assignee_id_users": "ix_tasks_assignee_id",
        "fk_tasks_list_id_task_lists": "ix_tasks_list_id_position_id",
    }
    verdicts = {ix["index"]: ix["verdict"] for ix in report["indexes"]}
    assert verdicts["ix_tasks_unassigned_list_id_position"] == "used"
    assert verdicts["ix_activity_task_id"] == "foreign key only"
    assert verdicts["pk_activity"] == "constraint only"


def test_all_on_an_empty_database_skips_what_the_data_cannot_reach(database_url):
    summary = on(database_url, "explain", "--all", "--json")

    assert summary.exit_code == 0, summary.stderr
    skipped = {row["name"]: row["skipped"] for row in summary.json() if "skipped" in row}
    assert skipped["board_tree.lists"] == (
        "board_tree.lists: with board_id=1 the library stops before this statement (board 1 not found)"
    )
    assert set(skipped) == {"board_tree.lists", "board_tree.tasks", "task_delete", "make_room"}


def test_db_indexes_on_80_columns_cuts_no_name(seeded_url):
    audited = on(seeded_url, "db", "indexes", "--json").json()
    drawn = on(seeded_url, "db", "indexes", env={"COLUMNS": "80"})
    assert drawn.exit_code == 0, drawn.stderr
    assert "…" not in drawn.stdout
    lines = drawn.stdout.splitlines()
    for name in [ix["index"] for ix in audited["indexes"]] + [
        fk["constraint"] for fk in audited["foreign_keys"]
    ]:
        assert any(name in line for line in lines), name  # whole, on one line
