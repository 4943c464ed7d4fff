"""Every bad input gets one line on stderr naming the problem and what to do, a documented exit
code, no traceback, and leaves the database exactly as it was.

The refusals run against one seeded database per module (they must not change it, and each test
proves so by comparing every table with a snapshot taken before), so ~50 cases cost one clone.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator

import psycopg
import pytest
import sqlalchemy as sa
from cli_runner import Outcome, on, run
from conftest import create_database, drop_database, libpq
from sqlalchemy import URL

import concord
from concord.services import boards, lists, tasks, users

TABLES = ("users", "boards", "task_lists", "tasks", "activity")


@pytest.fixture(scope="module")
def seeded_url(server_url: URL, template_database: str) -> Iterator[URL]:
    """Board 1 with list 1 (WIP limit 1, holding task 1, assigned to alice) and list 2 (task 2);
    board 2 with list 3. Users alice (1) and bob (2)."""
    name = f"concord_bad_{uuid.uuid4().hex[:8]}"
    url = create_database(server_url, name, template=template_database)
    with concord.connect(url) as db:
        db.transact(users.create_user, "alice")
        db.transact(users.create_user, "bob")
        db.transact(boards.create_board, "Roadmap")
        db.transact(lists.create_list, 1, "Doing", wip_limit=1)
        db.transact(lists.create_list, 1, "Todo")
        db.transact(boards.create_board, "Other")
        db.transact(lists.create_list, 2, "Elsewhere")
        db.transact(tasks.create_task, 1, "Busy", assignee="alice")
        db.transact(tasks.create_task, 2, "Waiting")
    yield url
    drop_database(server_url, name)


def snapshot(url: URL) -> dict[str, list[tuple]]:
    with psycopg.connect(libpq(url)) as conn:
        return {t: conn.execute(f"SELECT * FROM {t} ORDER BY id").fetchall() for t in TABLES}


@pytest.fixture
def unchanged(seeded_url: URL) -> Iterator[URL]:
    """The seeded database, checked to be exactly as it was after the test."""
    before = snapshot(seeded_url)
    yield seeded_url
    assert snapshot(seeded_url) == before


def assert_refused(result: Outcome, code: int, message: str) -> None:
    assert result.stdout == ""
    assert result.stderr == f"concord: {message}\n"
    assert result.exit_code == code


FIND_BOARD = "`concord board list` shows the boards"
FIND_LIST = "`concord board show BOARD_ID` shows a board's lists"
FIND_TASK = "`concord board show BOARD_ID` shows a board's tasks"
FIND_USER = "`concord user list` shows the users; `concord user create NAME` adds one"
LONG_NAME, LONG_TITLE = "n" * 201, "t" * 501

# (arguments, exit code, message after "concord: ")
REFUSALS = [
    # unknown ids
    (["board", "show", "99"], 1, f"board 99 not found: {FIND_BOARD}"),
    (["board", "rename", "99", "X"], 1, f"board 99 not found: {FIND_BOARD}"),
    (["board", "delete", "99", "--yes"], 1, f"board 99 not found: {FIND_BOARD}"),
    (["board", "show", "0"], 1, f"board 0 not found: {FIND_BOARD}"),
    (["board", "show", "99999999999999999999"], 1, f"board 99999999999999999999 not found: {FIND_BOARD}"),
    (["list", "create", "--board", "99", "X"], 1, f"board 99 not found: {FIND_BOARD}"),
    (["list", "list", "--board", "99"], 1, f"board 99 not found: {FIND_BOARD}"),
    (["list", "rename", "99", "X"], 1, f"list 99 not found: {FIND_LIST}"),
    (["list", "delete", "99", "--yes"], 1, f"list 99 not found: {FIND_LIST}"),
    (["list", "wip-limit", "99", "3"], 1, f"list 99 not found: {FIND_LIST}"),
    (["task", "create", "--list", "99", "X"], 1, f"list 99 not found: {FIND_LIST}"),
    (["task", "show", "99"], 1, f"task 99 not found: {FIND_TASK}"),
    (["task", "update", "99", "--title", "X"], 1, f"task 99 not found: {FIND_TASK}"),
    (
        ["task", "update", "99999999999999999999", "--title", "X"],
        1,
        f"task 99999999999999999999 not found: {FIND_TASK}",
    ),
    (["task", "move", "99", "--to-list", "2"], 1, f"task 99 not found: {FIND_TASK}"),
    (["task", "move", "2", "--to-list", "99"], 1, f"list 99 not found: {FIND_LIST}"),
    (["task", "assign", "99", "--to", "bob"], 1, f"task 99 not found: {FIND_TASK}"),
    (["task", "delete", "99", "--yes"], 1, f"task 99 not found: {FIND_TASK}"),
    # unknown users
    (["task", "assign", "2", "--to", "carol"], 1, f"user 'carol' not found: {FIND_USER}"),
    (["task", "assign", "2", "--to", "99"], 1, f"user 99 not found: {FIND_USER}"),
    (["task", "assign", "2", "--to", "²"], 1, f"user '²' not found: {FIND_USER}"),
    (
        ["task", "create", "--list", "2", "X", "--assignee", "carol"],
        1,
        f"user 'carol' not found: {FIND_USER}",
    ),
    # names and titles
    (["board", "create", ""], 2, "name must not be empty: give 1 to 200 characters"),
    (["board", "create", "   "], 2, "name must not be empty: give 1 to 200 characters"),
    (["board", "create", LONG_NAME], 2, "name is 201 characters long: shorten it to at most 200"),
    (
        ["board", "create", "two\nlines"],
        2,
        "name contains a line break or control character: give one line of text",
    ),
    (["board", "rename", "1", ""], 2, "name must not be empty: give 1 to 200 characters"),
    (["list", "create", "--board", "1", ""], 2, "name must not be empty: give 1 to 200 characters"),
    (["list", "rename", "1", LONG_NAME], 2, "name is 201 characters long: shorten it to at most 200"),
    (["task", "create", "--list", "2", ""], 2, "title must not be empty: give 1 to 500 characters"),
    (
        ["task", "create", "--list", "2", LONG_TITLE],
        2,
        "title is 501 characters long: shorten it to at most 500",
    ),
    (["task", "update", "2", "--title", " "], 2, "title must not be empty: give 1 to 500 characters"),
    (["user", "create", ""], 2, "name must not be empty: give 1 to 200 characters"),
    (["user", "create", LONG_NAME], 2, "name is 201 characters long: shorten it to at most 200"),
    (["user", "create", "alice"], 3, "user 'alice' already exists: choose another name"),
    (
        ["user", "create", "007"],
        2,
        "a user name cannot be all digits ('007' would read as a user id): add a letter",
    ),
    # numbers
    (
        ["list", "create", "--board", "1", "X", "--position", "-1"],
        2,
        "position must be between 0 and 2147483647 (0 is the top), not -1",
    ),
    (
        ["task", "create", "--list", "2", "X", "--position", "-1"],
        2,
        "position must be between 0 and 2147483647 (0 is the top), not -1",
    ),
    (
        ["task", "move", "2", "--to-list", "2", "--position", "-5"],
        2,
        "position must be between 0 and 2147483647 (0 is the top), not -5",
    ),
    (
        ["task", "create", "--list", "2", "X", "--position", "2147483648"],
        2,
        "position must be between 0 and 2147483647 (0 is the top), not 2147483648",
    ),
    (
        ["list", "create", "--board", "1", "X", "--wip-limit", "0"],
        2,
        "wip limit must be between 1 and 2147483647 (or none for no limit), not 0",
    ),
    (
        ["list", "create", "--board", "1", "X", "--wip-limit", "-2"],
        2,
        "wip limit must be between 1 and 2147483647 (or none for no limit), not -2",
    ),
    (
        ["list", "wip-limit", "1", "0"],
        2,
        "wip limit must be between 1 and 2147483647 (or none for no limit), not 0",
    ),
    (
        ["list", "wip-limit", "1", "-3"],
        2,
        "wip limit must be between 1 and 2147483647 (or none for no limit), not -3",
    ),
    (["list", "wip-limit", "1", "lots"], 2, "wip limit must be a whole number or none, not 'lots'"),
    (["list", "wip-limit", "1", ""], 2, "wip limit must be a whole number or none, not ''"),
    (
        ["task", "create", "--list", "2", "X", "--points", "-1"],
        2,
        "points must be between 0 and 2147483647, not -1",
    ),
    (
        ["task", "update", "2", "--points", "99999999999"],
        2,
        "points must be between 0 and 2147483647, not 99999999999",
    ),
    (
        ["task", "update", "2", "--title", "X", "--expected-version", "0"],
        2,
        "a version must be between 1 and 2147483647 (versions start at 1), not 0",
    ),
    # statuses and empty updates
    (
        ["task", "create", "--list", "2", "X", "--status", "blocked"],
        2,
        "unknown status 'blocked': choose one of todo, doing, done",
    ),
    (
        ["task", "update", "2", "--status", "DONE"],
        2,
        "unknown status 'DONE': choose one of todo, doing, done",
    ),
    (["task", "update", "2"], 2, "nothing to update: give at least one field to change"),
    # conflicts
    (
        ["task", "update", "2", "--title", "X", "--expected-version", "7"],
        3,
        "task 2 changed since version 7: it is now at version 1; read it again and retry with version 1",
    ),
    (
        ["task", "move", "2", "--to-list", "1", "--expected-version", "7"],
        3,
        "task 2 changed since version 7: it is now at version 1; read it again and retry with version 1",
    ),
    (
        ["task", "delete", "2", "--expected-version", "2", "--yes"],
        3,
        "task 2 changed since version 2: it is now at version 1; read it again and retry with version 1",
    ),
    (
        ["task", "assign", "1", "--to", "bob"],
        3,
        "task 1 is already assigned to 'alice' (user 1): reassign it explicitly to take it over (--reassign)",
    ),
    (
        ["task", "move", "2", "--to-list", "1"],
        3,
        "list 1 holds 1 task, its WIP limit is 1: the move would exceed it; "
        "move a task out of the list first or choose another list",
    ),
    (
        ["task", "create", "--list", "1", "One too many"],
        3,
        "list 1 holds 1 task, its WIP limit is 1: adding a task would exceed it; "
        "move a task out of the list first or choose another list",
    ),
    (
        ["task", "move", "2", "--to-list", "3"],
        2,
        "list 3 is on board 2 but task 2 is on board 1: tasks move only within their board, pick a list of "
        "board 1",
    ),
]


@pytest.mark.parametrize(
    ("args", "code", "message"), REFUSALS, ids=lambda v: " ".join(v) if isinstance(v, list) else None
)
def test_bad_input_is_refused_with_one_line_and_changes_nothing(unchanged, args, code, message):
    assert_refused(on(unchanged, *args), code, message)


def test_create_task_with_an_unknown_assignee_writes_neither_task_nor_activity(unchanged):
    """A multi-step write (lock list, resolve user, insert task, record activity) fails as a whole."""
    assert on(unchanged, "task", "create", "--list", "2", "Orphan", "--assignee", "nobody").exit_code == 1


def test_a_refused_move_leaves_its_neighbours_where_they_were(unchanged):
    """Making room at the target shifts other tasks; a stale version refuses before any of that."""
    result = on(
        unchanged, "task", "move", "1", "--to-list", "2", "--position", "0", "--expected-version", "9"
    )
    assert result.exit_code == 3


def test_debug_shows_the_traceback_before_the_one_line(unchanged):
    result = on(unchanged, "board", "show", "99", env={"CONCORD_DEBUG": "1"})
    assert result.exit_code == 1
    assert result.stderr.startswith("Traceback (most recent call last):\n")
    assert "concord.errors.NotFound: board 99 not found" in result.stderr
    assert result.stderr.endswith(f"concord: board 99 not found: {FIND_BOARD}\n")


def test_without_debug_there_is_no_traceback(unchanged):
    result = on(unchanged, "board", "show", "99", env={"CONCORD_DEBUG": "0"})
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1


def test_a_task_named_by_a_title_nobody_has_is_not_found_in_one_line(unchanged):
    result = on(unchanged, "task", "show", "abc")  # not an id: a title
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        "concord: task 'abc' not found: `concord board show BOARD_ID` shows a board's tasks\n"
    )


# the database URL


def test_a_malformed_url_is_refused_with_the_expected_form():
    result = run("board", "list", "--database-url", "nonsense")
    assert_refused(
        result, 2, "malformed database URL 'nonsense': expected postgresql://user:password@host:port/dbname"
    )


def test_a_sqlite_url_is_refused_because_concord_needs_postgresql():
    result = run("board", "list", "--database-url", "sqlite:///x")
    assert_refused(result, 2, "concord needs PostgreSQL, but the URL names 'sqlite'")


@pytest.mark.parametrize("url", ["", "  "])
def test_an_empty_url_is_refused_rather_than_taken_for_the_embedded_server(url):
    result = run("board", "list", "--database-url", url)
    assert_refused(
        result,
        2,
        "the database URL is empty: give a PostgreSQL URL, or leave the option out for the embedded server",
    )


def test_a_url_without_a_database_is_refused():
    result = run("board", "list", "--database-url", "postgresql://postgres@localhost")
    assert_refused(result, 2, "the database URL postgresql://postgres@localhost names no database")


@pytest.mark.parametrize("command", [["board", "list"], ["db", "status"], ["db", "upgrade"]])
def test_an_unreachable_server_names_the_masked_url_and_what_to_check(command):
    result = run(*command, "--database-url", "postgresql://postgres:s3cret@127.0.0.1:1/x")
    assert_refused(
        result,
        1,
        "cannot reach the database at postgresql+psycopg://postgres:***@127.0.0.1:1/x: connection failed: "
        'connection to server at "127.0.0.1", port 1 failed: Connection refused; is the server running? '
        "check --database-url",
    )
    assert "s3cret" not in result.stderr


def test_a_missing_database_says_to_create_it(server_url):
    missing = server_url.set(database=f"concord_missing_{uuid.uuid4().hex[:8]}")
    result = on(missing, "board", "list")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"concord: cannot reach the database at {missing.render_as_string()}: ")
    assert result.stderr.endswith(
        f'database "{missing.database}" does not exist; create that database, or check --database-url\n'
    )


# databases concord did not migrate


@pytest.fixture
def foreign_database_url(empty_database_url: URL) -> URL:
    with psycopg.connect(libpq(empty_database_url), autocommit=True) as conn:
        conn.execute("CREATE TABLE invoices (id int PRIMARY KEY)")
    return empty_database_url


@pytest.fixture
def future_database_url(empty_database_url: URL) -> URL:
    with psycopg.connect(libpq(empty_database_url), autocommit=True) as conn:
        conn.execute("CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY)")
        conn.execute("INSERT INTO alembic_version VALUES ('ffff9999')")
    return empty_database_url


def test_a_database_with_foreign_tables_is_not_migrated_behind_the_users_back(foreign_database_url):
    result = on(foreign_database_url, "board", "create", "X")
    assert_refused(
        result,
        1,
        "the database has tables but no concord schema: run `concord db upgrade` or point "
        "--database-url at an empty database",
    )
    with psycopg.connect(libpq(foreign_database_url)) as conn:
        names = [r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
    assert names == ["invoices"]


def test_a_database_with_foreign_tables_can_then_be_upgraded_on_purpose(foreign_database_url):
    assert on(foreign_database_url, "db", "upgrade").stdout == "migrated from no concord schema to 0001\n"
    assert on(foreign_database_url, "board", "create", "X").exit_code == 0


UNKNOWN_REVISION = (
    "the database is stamped with revision 'ffff9999', which this concord does not know (its "
    "newest is 0001; was it migrated by a newer concord?): upgrade concord, or run `concord db "
    "reset --yes` to start it over (this deletes its data)"
)


def test_a_database_at_an_unknown_revision_is_refused_without_suggesting_upgrade(future_database_url):
    assert_refused(on(future_database_url, "board", "list"), 1, UNKNOWN_REVISION)
    assert_refused(on(future_database_url, "db", "upgrade"), 1, UNKNOWN_REVISION)


def test_a_database_at_an_unknown_revision_can_be_reset(future_database_url):
    assert on(future_database_url, "db", "reset", "--yes").stdout == "database reset to revision 0001\n"
    assert on(future_database_url, "board", "list", "--json").stdout == "[]\n"


def test_db_status_reports_a_database_concord_never_migrated(foreign_database_url):
    report = on(foreign_database_url, "db", "status", "--json").json()
    assert (report["revision"], report["up_to_date"]) == (None, False)


def test_db_upgrade_to_an_unknown_revision_is_refused(empty_database_url):
    assert_refused(
        on(empty_database_url, "db", "upgrade", "--revision", "nope"),
        2,
        "unknown revision 'nope': choose head or one of 0001",
    )


def test_refusals_through_the_library_leave_no_rows(db):
    """The same guarantee without the command line: a failed use case commits nothing."""
    board = db.transact(boards.create_board, "B")
    task_list = db.transact(lists.create_list, board.id, "L")
    with pytest.raises(concord.NotFound):
        db.transact(tasks.create_task, task_list.id, "T", assignee="ghost")
    with db.engine.connect() as conn:
        assert conn.scalar(sa.text("SELECT count(*) FROM tasks")) == 0
        assert conn.scalar(sa.text("SELECT count(*) FROM activity WHERE action = 'task.created'")) == 0


# One policy for every command: a bad value on the command line is exit 2 and one line, whoever
# finds it (Typer, the command, the library); what the values meet (an unreachable server, a busy
# port) is exit 1; "unexpected" is kept for bugs.

NO_DATABASE = "postgresql://postgres@localhost"
NAMES_NO_DATABASE = f"the database URL {NO_DATABASE} names no database"
UNREACHABLE = "postgresql://postgres@127.0.0.1:1/x"
MALFORMED_PORT = "malformed database URL 'postgresql://u@localhost:abc/db': expected postgresql://user:password@host:port/dbname"

# (arguments, exit code, message after "concord: ")
POLICY = [
    # a non-numeric port, given to the root or to the command
    (["--database-url", "postgresql://u@localhost:abc/db", "board", "list"], 2, MALFORMED_PORT),
    (["board", "list", "--database-url", "postgresql://u@localhost:abc/db"], 2, MALFORMED_PORT),
    (
        ["db", "status", "--database-url", "postgresql://u:pw@localhost:abc/db"],
        2,
        MALFORMED_PORT.replace("u@", "u:***@"),
    ),
    (
        ["board", "list", "--database-url", "postgresql://u@localhost:70000/db"],
        2,
        "the database URL postgresql://u@localhost:70000/db names port 70000: give 1 to 65535",
    ),
    # a URL without a database: 2 from every command, before any of them prints or starts anything
    *[
        ([*command, "--database-url", NO_DATABASE], 2, NAMES_NO_DATABASE)
        for command in (
            ["board", "list"],
            ["task", "show", "1"],
            ["db", "status"],
            ["db", "upgrade"],
            ["race"],
            ["sweep"],
            ["calibrate"],
            ["anomalies"],
            ["explain", "--all"],
            ["seed"],
        )
    ],
    (["--database-url", NO_DATABASE, "race"], 2, NAMES_NO_DATABASE),
    # an unreachable server: exit 1, one line naming it, from calibrate as from the rest
    (
        ["calibrate", "--workers", "1", "--rounds", "1", "--database-url", UNREACHABLE],
        1,
        "cannot reach the database at postgresql+psycopg://postgres@127.0.0.1:1/x: connection failed: "
        'connection to server at "127.0.0.1", port 1 failed: Connection refused; is the server running? '
        "check --database-url",
    ),
    # numbers out of range: 2 whether Typer, the command or the library finds them
    (["race", "--workers", "-4"], 2, "workers must be at least 1, not -4"),
    # Typer's own errors, one line each
    (
        ["race", "--duration", "abc"],
        2,
        "Invalid value for '--duration' / '-d': Input should be a valid number, unable to parse string as a "
        "number (see concord race --help)",
    ),
    (["board", "list", "--nope"], 2, "No such option: --nope (see concord board list --help)"),
    (["board", "create"], 2, "Missing argument 'name'. (see concord board create --help)"),
    (["frobnicate"], 2, "No such command 'frobnicate'. (see concord --help)"),
    (
        ["serve", "--port", "0"],
        2,
        "Invalid value for '--port': Input should be greater than or equal to 1 (see concord serve --help)",
    ),
    # an argument that is not UTF-8 (Python hands it over as lone surrogates)
    (["board", "create", "\udcff"], 2, "argument 3 is not valid UTF-8 text: b'\\xff'"),
    (
        ["--database-url", "postgresql://u@h/d\udce9", "board", "list"],
        2,
        "argument 2 is not valid UTF-8 text: b'postgresql://u@h/d\\xe9'",
    ),
    # serve checks its host before uvicorn starts (a busy port: see below)
    (
        ["serve", "--host", "not a host"],
        2,
        "--host 'not a host' is neither an IP address nor a known host name",
    ),
    (["serve", "--host", "192.0.2.1"], 2, "--host 192.0.2.1 is not an address of this machine"),
]


@pytest.fixture
def no_uvicorn(monkeypatch):
    """Should a refusal ever regress, fail instead of serving forever."""
    import uvicorn

    def refuse(*args, **kwargs):
        raise AssertionError("serve started uvicorn")

    monkeypatch.setattr(uvicorn, "run", refuse)


@pytest.mark.parametrize(
    ("args", "code", "message"), POLICY, ids=lambda v: " ".join(v) if isinstance(v, list) else None
)
def test_every_bad_value_on_the_command_line_is_one_line_and_its_documented_exit_code(
    no_uvicorn, args, code, message
):
    result = run(*args)
    assert_refused(result, code, message)
    assert "unexpected" not in result.stderr


def test_a_url_in_the_environment_that_is_not_utf8_is_a_usage_error():
    result = run("board", "list", env={"CONCORD_DATABASE_URL": "postgresql://u@h/d\udce9"})
    assert_refused(result, 2, "the database URL is not valid UTF-8 text: check CONCORD_DATABASE_URL")


def test_an_experiment_file_that_is_a_directory_is_a_usage_error(tmp_path):
    assert_refused(
        run("race", "--experiment", str(tmp_path)),
        2,
        f"cannot read the experiment file {tmp_path}: Is a directory",
    )


def test_serve_on_a_busy_port_says_so_in_one_line_and_exits_1(no_uvicorn):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run("serve", "--port", str(port))
    assert_refused(result, 1, f"port {port} on 127.0.0.1 is in use")


def test_a_bad_value_caught_by_the_library_is_exit_2_like_one_caught_by_typer(unchanged):
    """A negative number of points is refused by the library, a negative number of workers by the
    command: both came from the command line, both are usage errors."""
    assert_refused(
        on(unchanged, "task", "create", "--list", "2", "X", "--points", "-3"),
        2,
        "points must be between 0 and 2147483647, not -3",
    )


def test_invalid_utf8_in_a_real_argv_is_refused_before_anything_is_written(unchanged):
    """Through a real process: the shell hands over bytes, Python decodes them with surrogateescape."""
    before = snapshot(unchanged)
    result = subprocess.run(
        [sys.executable, "-m", "concord", "board", "create", b"\xff", "--database-url", libpq(unchanged)],
        capture_output=True,
        env={**os.environ, "CONCORD_DEBUG": "0"},
        check=False,
    )
    assert (result.returncode, result.stdout, result.stderr) == (
        2,
        b"",
        b"concord: argument 3 is not valid UTF-8 text: b'\\xff'\n",
    )
    assert snapshot(unchanged) == before
