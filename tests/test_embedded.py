"""The embedded server's status and the URL plumbing, without starting or stopping any server.

The shared test server is never stopped here: stopping is exercised only on a throwaway
CONCORD_HOME where no server was ever started (the "not running" path).
"""

from __future__ import annotations

import os

import pytest
from cli_runner import run
from sqlalchemy import make_url

from concord.db import admin, migrate
from concord.db.embedded import PG_MAJOR, EmbeddedServer
from concord.db.urls import libpq_dsn, mask_url, normalize_url, resolve_url
from concord.errors import InvalidInput


@pytest.fixture
def empty_home(tmp_path, monkeypatch):
    """A CONCORD_HOME with no server in it, and no database URL in the environment."""
    monkeypatch.setenv("CONCORD_HOME", str(tmp_path))
    monkeypatch.delenv("CONCORD_DATABASE_URL", raising=False)
    return tmp_path


def test_a_fresh_data_directory_reports_not_initialised_and_not_running(tmp_path):
    status = EmbeddedServer(tmp_path / "pg").status()
    assert (status.initialised, status.running, status.pid, status.socket_dir) == (False, False, None, None)
    assert not (tmp_path / "pg").exists()  # asking did not create anything


def test_db_status_of_a_stopped_embedded_server_does_not_start_it(empty_home):
    report = admin.status()
    assert report == {
        "server": f"embedded PostgreSQL {PG_MAJOR}",
        "data_directory": str(empty_home / f"pg{PG_MAJOR}"),
        "running": False,
        "pid": None,
        "url": None,
        "server_version": None,
        "revision": None,
        "head": migrate.head_revision(),
    }
    assert not (empty_home / f"pg{PG_MAJOR}" / "postmaster.pid").exists()


def test_db_stop_without_a_running_embedded_server_says_so(empty_home):
    result = run("db", "stop", env={"CONCORD_HOME": str(empty_home)})
    assert (result.exit_code, result.stdout, result.stderr) == (0, "embedded server was not running\n", "")


def test_db_status_json_through_the_command_line_for_a_stopped_server(empty_home):
    result = run("db", "status", "--json", env={"CONCORD_HOME": str(empty_home)})
    assert result.exit_code == 0
    assert (result.json()["running"], result.json()["url"]) == (False, None)


@pytest.mark.skipif(bool(os.environ.get("CONCORD_TEST_DATABASE_URL")), reason="tests use an external server")
def test_the_shared_test_server_reports_running_with_a_socket(server_url):
    status = EmbeddedServer.default().status()
    assert status.running
    assert status.pid is not None and status.socket_dir is not None
    assert server_url.query["host"] == str(status.socket_dir)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("postgresql://u:p@h:5433/db", "postgresql+psycopg://u:p@h:5433/db"),
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg2://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql://postgres@/db?host=/tmp/sock", "postgresql+psycopg://postgres@/db?host=%2Ftmp%2Fsock"),
    ],
)
def test_normalize_url_always_selects_psycopg_3(raw, expected):
    assert normalize_url(raw).render_as_string(hide_password=False) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            "nonsense",
            "malformed database URL 'nonsense': expected postgresql://user:password@host:port/dbname",
        ),
        ("", "malformed database URL '': expected postgresql://user:password@host:port/dbname"),
        ("mysql://u@h/db", "concord needs PostgreSQL, but the URL names 'mysql'"),
        ("postgresql://u:secret@h", "the database URL postgresql://u:***@h names no database"),
    ],
)
def test_normalize_url_refuses_what_is_not_a_postgresql_database(raw, message):
    with pytest.raises(InvalidInput) as caught:
        normalize_url(raw)
    assert caught.value.message == message


def test_mask_url_hides_the_password_and_survives_garbage():
    assert mask_url("postgresql://u:secret@h/db") == "postgresql://u:***@h/db"
    assert mask_url(make_url("postgresql://u@h/db")) == "postgresql://u@h/db"
    assert mask_url("::not a url::") == "<malformed URL>"


def test_libpq_dsn_keeps_the_password_for_the_driver():
    assert libpq_dsn(make_url("postgresql+psycopg://u:secret@h:1/db")) == "postgresql://u:secret@h:1/db"


def test_an_explicit_url_wins_over_the_environment(monkeypatch):
    monkeypatch.setenv("CONCORD_DATABASE_URL", "postgresql://env@h/from_env")
    assert resolve_url("postgresql://arg@h/from_arg").database == "from_arg"
    assert resolve_url(None).database == "from_env"
