"""Pure unit tests of the error boundary: `translate()` by SQLSTATE, the messages, the exit codes."""

from __future__ import annotations

import psycopg
import psycopg.errors
import pytest
from sqlalchemy import exc as sa_exc

from concord.cli.errors import UsageError, exit_code_for, with_hint
from concord.errors import (
    AlreadyAssigned,
    ConcordError,
    Conflict,
    DatabaseUnavailable,
    Deadlock,
    InvalidInput,
    LockNotAvailable,
    LockTimeout,
    NotFound,
    NotMigrated,
    QueryCanceled,
    SerializationFailure,
    StaleVersion,
    StatementTimeout,
    UniqueViolation,
    WipLimitExceeded,
    kind_of,
    sqlstate_of,
    translate,
)


def server_error(sqlstate: str, message: str = "the server said no\nDETAIL: more") -> sa_exc.DBAPIError:
    """What SQLAlchemy raises for a psycopg error carrying ``sqlstate``."""
    orig = psycopg.errors.lookup(sqlstate)(message)
    return sa_exc.DBAPIError.instance("UPDATE tasks SET ...", {}, orig, psycopg.Error)


@pytest.mark.parametrize(
    ("sqlstate", "expected"),
    [
        ("40001", SerializationFailure),
        ("40P01", Deadlock),
        ("55P03", LockNotAvailable),
        ("57014", QueryCanceled),
        ("23505", UniqueViolation),
        ("57P01", DatabaseUnavailable),
        ("57P02", DatabaseUnavailable),
        ("57P03", DatabaseUnavailable),
        ("08006", DatabaseUnavailable),
        ("08001", DatabaseUnavailable),
        ("22003", InvalidInput),
        ("22P02", InvalidInput),
        ("23503", InvalidInput),
        ("23514", InvalidInput),
        ("23502", InvalidInput),
    ],
)
def test_translate_maps_each_sqlstate_to_its_typed_error(sqlstate, expected):
    error = translate(server_error(sqlstate))
    assert type(error) is expected
    assert error.sqlstate == sqlstate
    assert error.message == "the server said no"  # the first line only, without SQL or DETAIL


def test_translate_keeps_the_subclass_relations_callers_rely_on():
    for sqlstate in ("40001", "40P01", "55P03", "23505"):
        assert isinstance(translate(server_error(sqlstate)), Conflict)
    assert not isinstance(translate(server_error("57014")), Conflict)


def test_translate_returns_an_unrecognised_server_error_unchanged():
    original = server_error("42P01")  # undefined table: a bug or a missing migration, not user input
    assert translate(original) is original


def test_translate_returns_a_concord_error_unchanged():
    error = NotFound("task", 3)
    assert translate(error) is error


def test_translate_returns_a_plain_python_error_unchanged():
    error = ValueError("nope")
    assert translate(error) is error


def test_a_connection_failure_without_sqlstate_is_database_unavailable():
    orig = psycopg.OperationalError(
        'connection to server at "127.0.0.1", port 1 failed: Connection refused\n'
        "\tIs the server running on that host?"
    )
    error = translate(sa_exc.DBAPIError.instance(None, None, orig, psycopg.Error))
    assert type(error) is DatabaseUnavailable
    assert error.message == (
        'cannot reach the database: connection to server at "127.0.0.1", port 1 failed: Connection refused'
    )
    assert error.detail == 'connection to server at "127.0.0.1", port 1 failed: Connection refused'


def test_a_client_side_data_error_is_invalid_input():
    orig = psycopg.DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes")
    error = translate(sa_exc.DBAPIError.instance("INSERT", {}, orig, psycopg.Error))
    assert type(error) is InvalidInput
    assert error.message == "PostgreSQL text fields cannot contain NUL (0x00) bytes"


def test_sqlstate_of_reads_the_driver_error_behind_sqlalchemys():
    assert sqlstate_of(server_error("40P01")) == "40P01"
    assert sqlstate_of(psycopg.errors.lookup("55P03")("x")) == "55P03"
    assert sqlstate_of(ValueError("x")) is None


@pytest.mark.parametrize(
    ("detail", "hint"),
    [
        (
            'connection to server at "127.0.0.1", port 1 failed: Connection refused',
            "is the server running? check --database-url",
        ),
        (
            'connection to server on socket "/s" failed: FATAL:  database "x" does not exist',
            "create that database, or check --database-url",
        ),
        (
            'connection to server at "h" failed: FATAL:  password authentication failed for user "u"',
            "check the user and password in --database-url",
        ),
    ],
)
def test_database_unavailable_at_names_the_place_and_a_hint(detail, hint):
    cause = DatabaseUnavailable(f"cannot reach the database: {detail}")
    cause.detail = detail
    error = DatabaseUnavailable.at("postgresql+psycopg://u:***@h/x", cause)
    assert error.message == f"cannot reach the database at postgresql+psycopg://u:***@h/x: {detail}; {hint}"


def test_stale_version_says_the_current_version_and_what_to_do():
    error = StaleVersion("task", 7, expected=2, current=5)
    assert error.message == (
        "task 7 changed since version 2: it is now at version 5; read it again and retry with version 5"
    )
    assert (error.entity, error.key, error.expected, error.current) == ("task", 7, 2, 5)


def test_stale_version_of_a_deleted_row_says_so():
    assert StaleVersion("task", 7, 2, None).message == "task 7 changed since version 2: it was deleted"


def test_not_found_keeps_entity_and_key():
    error = NotFound("board", 99)
    assert (error.message, error.entity, error.key) == ("board 99 not found", "board", 99)


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (NotFound("task", 1), 1),
        (InvalidInput("bad"), 2),  # a value concord checked: a usage error
        (InvalidInput("division by zero", sqlstate="22012"), 1),  # the server's, while running
        (DatabaseUnavailable("down"), 1),
        (NotMigrated("old"), 1),
        (QueryCanceled("slow"), 1),
        (StatementTimeout("slow"), 1),
        (UsageError("say --yes"), 2),
        (StaleVersion("task", 1, 1, 2), 3),
        (AlreadyAssigned("taken"), 3),
        (WipLimitExceeded("full"), 3),
        (LockNotAvailable("held"), 3),
        (LockTimeout("waited"), 3),
        (SerializationFailure("retry"), 3),
        (Deadlock("cycle"), 3),
        (UniqueViolation("dup"), 3),
        (ConcordError("other"), 1),
    ],
)
def test_exit_codes_follow_the_documented_policy(error, code):
    assert exit_code_for(error) == code


def test_hints_point_at_the_command_that_lists_valid_ids():
    assert with_hint(NotFound("user", "'x'")) == (
        "user 'x' not found: `concord user list` shows the users; `concord user create NAME` adds one"
    )
    assert with_hint(NotFound("board", 2)) == "board 2 not found: `concord board list` shows the boards"
    assert with_hint(NotFound("widget", 2)) == "widget 2 not found"
    assert with_hint(AlreadyAssigned("task 1 is taken")) == "task 1 is taken (--reassign)"
    assert with_hint(InvalidInput("bad")) == "bad"


@pytest.mark.parametrize(
    ("n", "noun", "plural", "said"),
    [(1, "task", None, "1 task"), (0, "task", None, "0 tasks"), (1200, "worker", None, "1,200 workers"),
     (2, "loser", None, "2 losers"), (3, "mouse", "mice", "3 mice")],
)  # fmt: skip
def test_a_count_says_its_noun_in_the_number_it_takes(n, noun, plural, said):
    from concord.nouns import count

    assert count(n, noun, plural) == said


def test_a_statement_timeout_is_told_from_a_cancel_by_the_servers_message_under_sqlalchemy_too():
    timeout = translate(server_error("57014", "canceling statement due to statement timeout"))
    cancel = translate(server_error("57014", "canceling statement due to user request"))
    assert (type(timeout), type(cancel)) == (StatementTimeout, QueryCanceled)
    assert (kind_of(timeout), kind_of(cancel)) == (
        ("statement_timeout", "57014"),
        ("query_canceled", "57014"),
    )


def test_every_typed_error_the_sqlstate_table_yields_names_the_kind_races_count():
    kinds = {state: kind_of(server_error(state)) for state in ("40001", "40P01", "55P03", "57014", "23505")}
    assert kinds == {
        "40001": ("serialization_failure", "40001"),
        "40P01": ("deadlock", "40P01"),
        "55P03": ("lock_not_available", "55P03"),  # no interrupt handler named: a NOWAIT refusal
        "57014": ("query_canceled", "57014"),
        "23505": ("unique_violation", "23505"),
    }
    assert kind_of(server_error("57P01")) == ("error", "57P01")  # the server went away: no conflict
    assert kind_of(StaleVersion("task", 1, 1, 2)) == ("stale_version", None)
