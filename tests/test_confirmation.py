"""Destructive commands ask the same way: --yes, or a "y" typed at a terminal; else refused with exit 2."""

from __future__ import annotations

import os
import pty
import subprocess
import sys

import pytest
from cli_runner import on, url_text

from concord.db.urls import mask_url

EVERYTHING = "every board, list, task and user"
SMALL_SEED = ("seed", "--boards", "1", "--lists-per-board", "2", "--tasks", "10", "--users", "2")


def fill(url) -> None:
    """One board with one list holding one task, and one user: ids 1 everywhere."""
    for args in (
        ("board", "create", "Roadmap"),
        ("list", "create", "--board", "1", "Todo"),
        ("task", "create", "--list", "1", "Write tests"),
        ("user", "create", "alice"),
    ):
        result = on(url, *args)
        assert result.exit_code == 0, result.stderr


def counts(url) -> tuple[int, int, int]:
    boards = on(url, "board", "list", "--json").json()
    users = on(url, "user", "list", "--json").json()
    tasks = sum(
        len(column["tasks"])
        for board in boards
        for column in on(url, "board", "show", str(board["id"]), "--json").json()["lists"]
    )
    return len(boards), tasks, len(users)


@pytest.mark.parametrize(
    ("args", "refusal"),
    [
        (("db", "reset"), f"db reset deletes {EVERYTHING}"),
        ((*SMALL_SEED, "--reset"), f"seed --reset deletes {EVERYTHING}"),
        (("board", "delete", "1"), "board delete deletes board 1 with its lists, tasks and activity"),
        (("list", "delete", "1"), "list delete deletes list 1 with its tasks"),
        (("task", "delete", "1"), "task delete deletes task 1"),
    ],
)
def test_a_destructive_command_without_yes_and_without_a_terminal_is_refused_and_deletes_nothing(
    database_url, args, refusal
):
    fill(database_url)

    result = on(database_url, *args)

    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == f"concord: {refusal}: add --yes to confirm (no terminal to ask on)\n"
    assert counts(database_url) == (1, 1, 1)


def test_seed_reset_with_yes_replaces_every_row(database_url):
    fill(database_url)

    result = on(database_url, *SMALL_SEED, "--reset", "--yes", "--json")

    assert result.exit_code == 0, result.stderr
    assert result.json()["rows"]["boards"] == 1
    assert counts(database_url) == (1, 10, 2)


@pytest.mark.parametrize(
    ("args", "after"),
    [(("board", "delete", "1", "--yes"), (0, 0, 1)), (("task", "delete", "1", "--yes"), (1, 0, 1))],
)
def test_a_delete_with_yes_goes_ahead_without_asking(database_url, args, after):
    fill(database_url)

    result = on(database_url, *args)

    assert (result.exit_code, result.stderr) == (0, "")
    assert counts(database_url) == after


def at_a_terminal(url, *args: str, answer: str) -> tuple[int, str]:
    """Run ``concord ARGS`` with stdin and stderr on a pseudo-terminal; type ``answer`` once asked."""
    leader, follower = pty.openpty()
    environ = {k: v for k, v in os.environ.items() if k != "CONCORD_DATABASE_URL"}
    process = subprocess.Popen(
        [sys.executable, "-m", "concord", *args, "--database-url", url_text(url)],
        stdin=follower,
        stdout=subprocess.DEVNULL,
        stderr=follower,
        env=environ,
    )
    os.close(follower)
    seen = b""
    while b"[y/N]" not in seen:  # the question arrives before the answer is typed
        chunk = os.read(leader, 4096)
        assert chunk, f"concord ended without asking: {seen!r}"
        seen += chunk
    os.write(leader, answer.encode() + b"\n")
    code = process.wait(timeout=60)
    try:
        while chunk := os.read(leader, 4096):
            seen += chunk
    except OSError:  # EIO once the child has closed its end
        pass
    os.close(leader)
    return code, seen.decode()


def test_seed_reset_at_a_terminal_asks_naming_the_database_and_a_no_keeps_the_data(database_url):
    fill(database_url)

    code, screen = at_a_terminal(database_url, *SMALL_SEED, "--reset", answer="n")

    assert f"Delete {EVERYTHING} in {mask_url(url_text(database_url))}? [y/N]:" in screen
    assert (code, screen.splitlines()[-1]) == (1, "concord: aborted")
    assert counts(database_url) == (1, 1, 1)


def test_db_reset_at_a_terminal_deletes_everything_after_a_yes(database_url):
    fill(database_url)

    code, screen = at_a_terminal(database_url, "db", "reset", answer="y")

    assert code == 0, screen
    assert f"Delete {EVERYTHING} in {mask_url(url_text(database_url))}? [y/N]:" in screen
    assert counts(database_url) == (0, 0, 0)
