# ruff: noqa: F811  (database_url, imported from shared_db, is a fixture that test arguments name)
"""Every CRUD command of `concord` through Typer's CliRunner: output, --json shapes, exit codes."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from cli_runner import on, run, url_text
from shared_db import database_url, module_database_url  # noqa: F401
from typer.testing import CliRunner

from concord.cli import app
from concord.models import Activity, Task

TASK_KEYS = {
    "id",
    "list_id",
    "title",
    "description",
    "position",
    "status",
    "points",
    "assignee_id",
    "version",
    "created_at",
    "updated_at",
}


def ok(result) -> dict | list | str:
    """The command succeeded quietly on stderr: its JSON document (or its text without --json)."""
    assert (result.exit_code, result.stderr) == (0, ""), result.stderr
    return result.json() if result.stdout.startswith(("{", "[")) else result.stdout


def make_board(url, name="Roadmap") -> dict:
    return ok(on(url, "board", "create", name, "--json"))


def make_list(url, board_id, name="Todo", *extra) -> dict:
    return ok(on(url, "list", "create", "--board", str(board_id), name, *extra, "--json"))


def make_task(url, list_id, title="Write tests", *extra) -> dict:
    return ok(on(url, "task", "create", "--list", str(list_id), title, *extra, "--json"))


# board


def test_board_create_json_prints_the_new_board_with_its_id(database_url):
    board = make_board(database_url)
    assert set(board) == {"id", "name", "created_at"}
    assert board["name"] == "Roadmap"
    assert isinstance(board["id"], int) and board["id"] >= 1


def test_board_create_without_json_prints_one_human_line(database_url):
    result = on(database_url, "board", "create", "Roadmap")
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == "created board 1: Roadmap\n"


def test_board_create_trims_the_name(database_url):
    assert make_board(database_url, "  Spaced  ")["name"] == "Spaced"


def test_board_list_json_lists_every_board_in_id_order(database_url):
    first, second = make_board(database_url, "A"), make_board(database_url, "B")
    listed = ok(on(database_url, "board", "list", "--json"))
    assert [(b["id"], b["name"]) for b in listed] == [(first["id"], "A"), (second["id"], "B")]


def test_board_list_of_no_boards_is_an_empty_json_list(database_url):
    assert ok(on(database_url, "board", "list", "--json")) == []


def test_board_list_without_json_draws_a_table_with_each_board(database_url):
    make_board(database_url, "Roadmap")
    result = on(database_url, "board", "list")
    assert result.exit_code == 0
    assert "Roadmap" in result.stdout and "id" in result.stdout


def test_board_show_json_nests_lists_and_tasks_in_board_order(database_url):
    board = make_board(database_url)
    todo = make_list(database_url, board["id"], "Todo")
    done = make_list(database_url, board["id"], "Done")
    ok(on(database_url, "user", "create", "alice"))
    first = make_task(database_url, todo["id"], "First", "--assignee", "alice")
    second = make_task(database_url, todo["id"], "Second")

    shown = ok(on(database_url, "board", "show", str(board["id"]), "--json"))

    assert [lst["name"] for lst in shown["lists"]] == ["Todo", "Done"]
    assert [t["id"] for t in shown["lists"][0]["tasks"]] == [first["id"], second["id"]]
    assert shown["lists"][0]["tasks"][0]["assignee_id"] == 1
    assert set(shown["lists"][0]["tasks"][0]) == TASK_KEYS
    assert shown["lists"][1] == {**done, "tasks": []}


def test_board_show_draws_a_tree_with_an_assigned_task(database_url):
    board = make_board(database_url)
    todo = make_list(database_url, board["id"], "Todo", "--wip-limit", "3")
    ok(on(database_url, "user", "create", "alice"))
    make_task(database_url, todo["id"], "First", "--assignee", "alice", "--points", "5")

    result = on(database_url, "board", "show", str(board["id"]))

    assert (result.exit_code, result.stderr) == (0, "")
    lines = result.stdout.splitlines()
    assert lines[0] == "Roadmap board 1"
    assert lines[1] == "└── Todo list 1, WIP 1/3"
    assert lines[2] == "    └── First task 1 · todo · 5 pts · v1 @alice"


def test_board_rename_changes_the_name_and_prints_the_board(database_url):
    board = make_board(database_url)
    renamed = ok(on(database_url, "board", "rename", str(board["id"]), "Plan", "--json"))
    assert renamed == {**board, "name": "Plan"}
    human = on(database_url, "board", "rename", str(board["id"]), "Plan B")
    assert human.stdout == "board 1 is now 'Plan B'\n"


def test_board_delete_removes_the_board_with_its_lists_tasks_and_activity(database_url, db):
    board = make_board(database_url)
    todo = make_list(database_url, board["id"])
    make_task(database_url, todo["id"])

    deleted = ok(on(database_url, "board", "delete", str(board["id"]), "--yes", "--json"))

    assert deleted == board
    assert ok(on(database_url, "board", "list", "--json")) == []
    with db.engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(Task)) == 0
        assert conn.scalar(sa.select(sa.func.count()).select_from(Activity)) == 0


# list


def test_list_create_json_prints_the_list_with_its_wip_limit(database_url):
    board = make_board(database_url)
    created = make_list(database_url, board["id"], "Doing", "--wip-limit", "2")
    assert set(created) == {"id", "board_id", "name", "position", "wip_limit", "created_at"}
    assert (created["board_id"], created["name"], created["position"], created["wip_limit"]) == (
        board["id"],
        "Doing",
        0,
        2,
    )


def test_list_create_appends_lists_at_the_next_position(database_url):
    board = make_board(database_url)
    positions = [make_list(database_url, board["id"], name)["position"] for name in ("A", "B", "C")]
    assert positions == [0, 1, 2]


def test_list_list_shows_the_lists_of_one_board_in_order(database_url):
    board, other = make_board(database_url), make_board(database_url, "Other")
    make_list(database_url, board["id"], "B", "--position", "5")
    make_list(database_url, board["id"], "A", "--position", "1")
    make_list(database_url, other["id"], "Elsewhere")
    listed = ok(on(database_url, "list", "list", "--board", str(board["id"]), "--json"))
    assert [lst["name"] for lst in listed] == ["A", "B"]
    human = on(database_url, "list", "list", "--board", str(board["id"]))
    assert "A" in human.stdout and "wip limit" in human.stdout


def test_list_wip_limit_sets_lowers_below_the_tasks_held_and_lifts_the_limit(database_url, db):
    board = make_board(database_url)
    doing = make_list(database_url, board["id"], "Doing")
    make_task(database_url, doing["id"], "One")
    make_task(database_url, doing["id"], "Two")
    list_id = str(doing["id"])

    assert ok(on(database_url, "list", "wip-limit", list_id, "3", "--json")) == {**doing, "wip_limit": 3}
    # A lower limit than the tasks held is accepted: the tasks stay, new ones are refused.
    assert on(database_url, "list", "wip-limit", list_id, "1").stdout == f"list {list_id} has WIP limit 1\n"
    refused = on(database_url, "task", "create", "--list", list_id, "Three")
    assert (refused.exit_code, refused.stderr.split(":")[1]) == (
        3,
        f" list {list_id} holds 2 tasks, its WIP limit is 1",
    )
    assert (
        on(database_url, "list", "wip-limit", list_id, "None").stdout == f"list {list_id} has no WIP limit\n"
    )
    assert make_task(database_url, doing["id"], "Three")["title"] == "Three"
    with db.engine.connect() as conn:
        changes = conn.execute(
            sa.select(Activity.detail).where(Activity.action == "list.wip_limit").order_by(Activity.id)
        ).scalars()
        assert [c["wip_limit"] for c in changes] == [3, 1, None]


def test_list_rename_and_delete_work_and_print_the_list(database_url):
    board = make_board(database_url)
    todo = make_list(database_url, board["id"])
    assert ok(on(database_url, "list", "rename", str(todo["id"]), "Backlog", "--json"))["name"] == "Backlog"
    make_task(database_url, todo["id"])
    assert ok(on(database_url, "list", "delete", str(todo["id"]), "--yes", "--json"))["id"] == todo["id"]
    assert ok(on(database_url, "list", "list", "--board", str(board["id"]), "--json")) == []
    assert on(database_url, "task", "show", "1").exit_code == 1  # the task went with its list


# task


def test_task_create_json_prints_the_task_at_version_one(database_url):
    board = make_board(database_url)
    todo = make_list(database_url, board["id"])
    ok(on(database_url, "user", "create", "alice"))
    task = make_task(
        database_url,
        todo["id"],
        "Ship",
        "--description",
        "soon",
        "--status",
        "doing",
        "--points",
        "3",
        "--assignee",
        "alice",
    )
    assert set(task) == TASK_KEYS
    assert {
        k: task[k]
        for k in ("list_id", "title", "description", "status", "points", "assignee_id", "version", "position")
    } == {
        "list_id": todo["id"],
        "title": "Ship",
        "description": "soon",
        "status": "doing",
        "points": 3,
        "assignee_id": 1,
        "version": 1,
        "position": 0,
    }


def test_task_show_prints_the_same_document_as_create(database_url):
    board = make_board(database_url)
    task = make_task(database_url, make_list(database_url, board["id"])["id"])
    assert ok(on(database_url, "task", "show", str(task["id"]), "--json")) == task
    human = on(database_url, "task", "show", str(task["id"]))
    assert "Write tests" in human.stdout and "version" in human.stdout


def test_task_update_with_the_current_version_bumps_it(database_url):
    board = make_board(database_url)
    task = make_task(database_url, make_list(database_url, board["id"])["id"])
    updated = ok(
        on(
            database_url,
            "task",
            "update",
            str(task["id"]),
            "--title",
            "Better",
            "--status",
            "done",
            "--points",
            "8",
            "--description",
            "d",
            "--expected-version",
            "1",
            "--json",
        )
    )
    assert (
        updated["title"],
        updated["status"],
        updated["points"],
        updated["description"],
        updated["version"],
    ) == ("Better", "done", 8, "d", 2)
    human = on(database_url, "task", "update", str(task["id"]), "--title", "Again")
    assert human.stdout == "updated task 1, now version 3\n"


def test_task_update_with_a_stale_version_exits_3_and_names_the_current_version(database_url):
    board = make_board(database_url)
    task = make_task(database_url, make_list(database_url, board["id"])["id"])
    ok(on(database_url, "task", "update", str(task["id"]), "--title", "Theirs", "--json"))

    result = on(database_url, "task", "update", str(task["id"]), "--title", "Mine", "--expected-version", "1")

    assert result.exit_code == 3
    assert result.stdout == ""
    assert result.stderr == (
        "concord: task 1 changed since version 1: it is now at version 2; read it again and retry with "
        "version 2\n"
    )
    assert ok(on(database_url, "task", "show", "1", "--json"))["title"] == "Theirs"


def test_task_move_to_another_list_goes_last_and_bumps_the_version(database_url):
    board = make_board(database_url)
    todo, doing = make_list(database_url, board["id"]), make_list(database_url, board["id"], "Doing")
    make_task(database_url, doing["id"], "Already there")
    task = make_task(database_url, todo["id"])
    moved = ok(on(database_url, "task", "move", str(task["id"]), "--to-list", str(doing["id"]), "--json"))
    assert (moved["list_id"], moved["position"], moved["version"]) == (doing["id"], 1, 2)
    human = on(database_url, "task", "move", str(task["id"]), "--to-list", str(todo["id"]), "--position", "0")
    assert human.stdout == f"moved task {task['id']} to list {todo['id']} at position 0\n"


def test_task_move_into_a_full_list_exits_3_and_moves_nothing(database_url):
    board = make_board(database_url)
    todo = make_list(database_url, board["id"])
    doing = make_list(database_url, board["id"], "Doing", "--wip-limit", "1")
    make_task(database_url, doing["id"], "Busy")
    task = make_task(database_url, todo["id"])

    result = on(database_url, "task", "move", str(task["id"]), "--to-list", str(doing["id"]))

    assert result.exit_code == 3
    assert result.stderr == (
        "concord: list 2 holds 1 task, its WIP limit is 1: the move would exceed it; move a task out of "
        "the list first or choose another list\n"
    )
    assert ok(on(database_url, "task", "show", str(task["id"]), "--json"))["list_id"] == todo["id"]


def test_task_assign_by_name_or_id_and_a_second_claim_exits_3(database_url):
    board = make_board(database_url)
    task = make_task(database_url, make_list(database_url, board["id"])["id"])
    alice = ok(on(database_url, "user", "create", "alice", "--json"))
    ok(on(database_url, "user", "create", "bob"))

    assigned = ok(on(database_url, "task", "assign", str(task["id"]), "--to", "alice", "--json"))
    again = on(database_url, "task", "assign", str(task["id"]), "--to", "bob")
    taken = ok(on(database_url, "task", "assign", str(task["id"]), "--to", "2", "--reassign", "--json"))

    assert (assigned["assignee_id"], assigned["version"]) == (alice["id"], 2)
    assert again.exit_code == 3
    assert again.stderr == (
        "concord: task 1 is already assigned to 'alice' (user 1): reassign it explicitly "
        "to take it over (--reassign)\n"
    )
    assert (taken["assignee_id"], taken["version"]) == (2, 3)


def test_task_delete_removes_it_and_prints_it(database_url):
    board = make_board(database_url)
    task = make_task(database_url, make_list(database_url, board["id"])["id"])
    deleted = ok(
        on(database_url, "task", "delete", str(task["id"]), "--expected-version", "1", "--yes", "--json")
    )
    assert deleted == task
    assert on(database_url, "task", "show", str(task["id"])).exit_code == 1


# user


def test_user_create_and_list(database_url):
    alice = ok(on(database_url, "user", "create", "alice", "--json"))
    assert set(alice) == {"id", "name", "created_at"}
    human = on(database_url, "user", "create", "bob")
    assert human.stdout == "created user 2: bob\n"
    assert [u["name"] for u in ok(on(database_url, "user", "list", "--json"))] == ["alice", "bob"]
    assert "bob" in on(database_url, "user", "list").stdout


def test_user_create_with_a_taken_name_exits_3(database_url):
    ok(on(database_url, "user", "create", "alice"))
    result = on(database_url, "user", "create", " alice ")
    assert (result.exit_code, result.stderr) == (
        3,
        "concord: user 'alice' already exists: choose another name\n",
    )
    assert len(ok(on(database_url, "user", "list", "--json"))) == 1


def test_user_create_with_an_all_digit_name_exits_2(database_url):
    result = on(database_url, "user", "create", "42")
    assert result.exit_code == 2
    assert result.stderr == (
        "concord: a user name cannot be all digits ('42' would read as a user id): add a letter\n"
    )
    assert ok(on(database_url, "user", "list", "--json")) == []


# db


def test_db_status_json_reports_an_external_server_at_head(database_url):
    report = ok(on(database_url, "db", "status", "--json"))
    assert report["server"] == "external"
    assert report["url"] == database_url.render_as_string(hide_password=True)
    assert report["revision"] == report["head"]
    assert report["up_to_date"] is True
    assert report["server_version"] == _server_version(database_url)


def test_db_status_without_json_draws_a_table(database_url):
    result = on(database_url, "db", "status")
    assert result.exit_code == 0
    assert "up to date" in result.stdout and "True" in result.stdout


def test_db_upgrade_migrates_an_empty_database_and_then_has_nothing_to_do(empty_database_url):
    first = on(empty_database_url, "db", "upgrade")
    second = on(empty_database_url, "db", "upgrade")
    assert (first.exit_code, first.stdout) == (0, "migrated from no concord schema to 0001\n")
    assert (second.exit_code, second.stdout) == (0, "already at 0001\n")
    assert on(empty_database_url, "db", "upgrade", "--json").json() == {
        "from": "0001",
        "to": "0001",
        "changed": False,
    }
    assert make_board(empty_database_url)["id"] == 1


def test_db_reset_with_yes_deletes_everything_and_migrates_again(database_url):
    make_board(database_url)
    ok(on(database_url, "user", "create", "alice"))
    result = on(database_url, "db", "reset", "--yes")
    assert (result.exit_code, result.stdout) == (0, "database reset to revision 0001\n")
    assert ok(on(database_url, "board", "list", "--json")) == []
    assert ok(on(database_url, "user", "list", "--json")) == []
    assert make_board(database_url)["id"] == 1  # identities start over too
    assert ok(on(database_url, "db", "reset", "--yes", "--json")) == {"revision": "0001"}


def test_db_reset_without_yes_refuses_with_exit_2_and_keeps_the_data(database_url):
    make_board(database_url)
    result = on(database_url, "db", "reset")
    assert (result.exit_code, result.stderr) == (
        2,
        "concord: db reset deletes every board, list, task and user: "
        "add --yes to confirm (no terminal to ask on)\n",
    )
    assert len(ok(on(database_url, "board", "list", "--json"))) == 1


@pytest.fixture
def no_stopping(monkeypatch):
    """Should the refusal ever regress, fail loudly instead of stopping the shared test server."""

    def refuse(self):
        raise AssertionError(f"a test tried to stop the embedded server in {self.data_dir}")

    monkeypatch.setattr("concord.db.embedded.EmbeddedServer.stop", refuse)


def test_db_stop_refuses_an_external_server_and_stops_nothing(database_url, no_stopping):
    result = on(database_url, "db", "stop")
    assert result.exit_code == 2  # the URL given does not name the embedded server
    masked = database_url.set(drivername="postgresql+psycopg").render_as_string(hide_password=True)
    assert result.stderr == (
        f"concord: the database at {masked} is an external server, not concord's embedded one: stop it with "
        "its own tools (pg_ctl, systemctl), or unset --database-url / CONCORD_DATABASE_URL to stop the "
        "embedded server\n"
    )
    assert ok(on(database_url, "board", "list", "--json")) == []  # the server still answers


def test_db_stop_refuses_when_the_url_comes_from_the_environment(database_url, no_stopping):
    result = run("db", "stop", env={"CONCORD_DATABASE_URL": url_text(database_url)})
    assert result.exit_code == 2
    assert "is an external server" in result.stderr


# the root option and Typer's own runner


def test_root_database_url_option_applies_to_the_subcommand(database_url):
    result = run("--database-url", url_text(database_url), "board", "create", "Root", "--json")
    assert ok(result)["name"] == "Root"


def test_typer_clirunner_invoke_runs_a_command_against_the_database(database_url):
    result = CliRunner().invoke(
        app,
        ["board", "create", "Via invoke", "--json", "--database-url", url_text(database_url)],
        catch_exceptions=False,
        env={"CONCORD_DATABASE_URL": None},
    )
    assert (result.exit_code, result.exception) == (0, None)
    assert ok(on(database_url, "board", "list", "--json"))[0]["name"] == "Via invoke"


def test_a_usage_error_exits_2_with_typers_message(database_url):
    result = on(database_url, "board", "lst")
    assert result.exit_code == 2
    assert "No such command 'lst'" in result.stderr


def test_db_status_shows_the_whole_url_on_a_narrow_terminal(database_url):
    result = on(database_url, "db", "status", env={"COLUMNS": "50"})
    assert "…" not in result.stdout
    assert database_url.database in "".join(line.strip() for line in result.stdout.splitlines())


def test_names_that_look_like_rich_markup_are_printed_literally_everywhere(database_url):
    """A name like '[/x]' once crashed the human output after the write had committed."""
    created = on(database_url, "board", "create", "[/x] [red]B[/red]")
    assert (created.exit_code, created.stdout) == (0, "created board 1: [/x] [red]B[/red]\n")
    assert (
        on(database_url, "list", "create", "--board", "1", "[/l]").stdout
        == "created list 1: [/l] on board 1\n"
    )
    assert on(database_url, "task", "create", "--list", "1", "[/t]").stdout == "created task 1: [/t]\n"
    assert on(database_url, "user", "create", "[/u]").stdout == "created user 1: [/u]\n"
    assert on(database_url, "board", "rename", "1", "[b]").stdout == "board 1 is now '[b]'\n"
    assert on(database_url, "list", "rename", "1", "[/l2]").stdout == "list 1 is now '[/l2]'\n"
    tree = on(database_url, "board", "show", "1")
    assert tree.stdout.splitlines() == [
        "[b] board 1",
        "└── [/l2] list 1",
        "    └── [/t] task 1 · todo · 0 pts · v1",
    ]
    for command in (
        ["board", "list"],
        ["list", "list", "--board", "1"],
        ["task", "show", "1"],
        ["user", "list"],
    ):
        result = on(database_url, *command)
        assert (result.exit_code, result.stderr) == (0, "")
        assert "[/" in result.stdout or "[b]" in result.stdout


def test_the_first_command_on_an_empty_database_migrates_it(empty_database_url):
    assert ok(on(empty_database_url, "board", "create", "First", "--json"))["id"] == 1
    assert ok(on(empty_database_url, "db", "status", "--json"))["up_to_date"] is True


def test_a_user_named_with_spaces_around_is_found_by_assign(database_url):
    board = make_board(database_url)
    task = make_task(database_url, make_list(database_url, board["id"])["id"])
    ok(on(database_url, "user", "create", "alice"))
    assert (
        ok(on(database_url, "task", "assign", str(task["id"]), "--to", " alice ", "--json"))["assignee_id"]
        == 1
    )


def test_ctrl_c_during_a_command_exits_130_with_one_line(database_url, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("concord.cli.board.transact", interrupted)
    result = on(database_url, "board", "list")
    assert (result.exit_code, result.stdout, result.stderr) == (130, "", "concord: interrupted\n")


def test_an_unexpected_error_is_one_line_pointing_at_concord_debug(database_url, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("concord.cli.board.transact", broken)
    result = on(database_url, "board", "list")
    assert (result.exit_code, result.stderr) == (
        1,
        "concord: unexpected RuntimeError: boom (CONCORD_DEBUG=1 shows the traceback)\n",
    )


def _server_version(url) -> str:
    """What the server itself says (the tests run on PostgreSQL 15 as well as the embedded 18)."""
    import concord

    with concord.connect(url, ensure_schema=False) as handle:
        return handle.server_version()


# naming things by name


def test_boards_lists_and_tasks_are_named_by_name_as_well_as_by_id(database_url):
    board = make_board(database_url, "Roadmap")
    todo = ok(on(database_url, "list", "create", "--board", "Roadmap", "Todo", "--json"))
    doing = ok(on(database_url, "list", "create", "--board", str(board["id"]), "Doing", "--json"))
    task = ok(on(database_url, "task", "create", "--list", "Todo", "Write the spec", "--json"))
    ok(on(database_url, "user", "create", "alice"))
    assigned = ok(on(database_url, "task", "assign", "Write the spec", "--to", "alice", "--json"))
    moved = ok(on(database_url, "task", "move", "Write the spec", "--to-list", "Doing", "--json"))
    shown = ok(on(database_url, "board", "show", "Roadmap", "--json"))
    assert (todo["board_id"], doing["board_id"], task["list_id"]) == (board["id"], board["id"], todo["id"])
    assert (assigned["id"], moved["id"], moved["list_id"]) == (task["id"], task["id"], doing["id"])
    assert [len(lst["tasks"]) for lst in shown["lists"]] == [0, 1]


def test_a_name_shared_by_two_boards_is_refused_with_their_ids(database_url):
    first, second = make_board(database_url, "Roadmap"), make_board(database_url, "Roadmap")
    result = on(database_url, "list", "create", "--board", "Roadmap", "Todo")
    assert (result.exit_code, result.stdout) == (2, "")  # a bad value on the command line
    assert result.stderr == (
        f"concord: more than one board is named 'Roadmap' (ids {first['id']}, {second['id']}): "
        "name it by id\n"
    )


def test_a_name_nobody_has_is_not_found_and_a_name_of_digits_is_an_id(database_url):
    board = make_board(database_url, "2026")
    missing = on(database_url, "board", "show", "Backlog")
    by_id = on(database_url, "board", "show", "2026")
    assert (missing.exit_code, missing.stderr) == (
        1,
        "concord: board 'Backlog' not found: `concord board list` shows the boards\n",
    )
    assert by_id.exit_code == 1 and "board 2026 not found" in by_id.stderr
    assert ok(on(database_url, "board", "show", str(board["id"]), "--json"))["name"] == "2026"
