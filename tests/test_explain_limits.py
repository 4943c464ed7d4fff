"""`concord explain` bounds what it runs: a statement timeout, and a cancel on Ctrl-C or SIGTERM.

``EXPLAIN ANALYZE`` runs the statement, so ``--sql "SELECT pg_sleep(600)"`` would hold a backend
for ten minutes. The signals are sent once the server shows the statement running, never after a
fixed sleep; what is checked afterwards is the server's own view (pg_stat_activity).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import psycopg
import pytest
from cli_runner import on
from test_race_support import dsn, url_text

from concord.explain.transaction import in_rolled_back_transaction

CONCORD = [sys.executable, "-m", "concord"]


def sleepers(conn: psycopg.Connection, seconds: int) -> list[int]:
    """Backends of this database running ``pg_sleep(seconds)``, other than the asking one."""
    rows = conn.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
        "AND state = 'active' AND query LIKE %s",
        (f"%pg_sleep({seconds})%",),
    ).fetchall()
    return [pid for (pid,) in rows]


def sleepers_within(url, seconds: int, timeout: float) -> list[int]:
    """The ``pg_sleep(seconds)`` backends left once they had ``timeout`` to go (polled)."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(dsn(url), autocommit=True) as conn:
        while (left := sleepers(conn, seconds)) and time.monotonic() < deadline:
            time.sleep(0.05)
    return left


def test_every_explain_runs_under_a_60_second_statement_timeout_by_default(database_url):
    def setting(conn):
        return conn.exec_driver_sql("SELECT current_setting('statement_timeout')").scalar_one()

    assert in_rolled_back_transaction(database_url, setting) == "1min"
    assert in_rolled_back_transaction(database_url, setting, "2.5") == "2500ms"


def test_a_statement_past_its_statement_timeout_is_cancelled_on_the_server_with_one_line_and_exit_1(
    database_url,
):
    started = time.monotonic()
    outcome = on(database_url, "explain", "--sql", "SELECT pg_sleep(47)", "--statement-timeout", "0.2")
    took = time.monotonic() - started

    assert (outcome.exit_code, outcome.stdout, took < 30) == (1, "", True)
    assert outcome.stderr == (
        "concord: the statement ran past the statement timeout (0.2 s) and the server cancelled it; "
        "its transaction was rolled back (--statement-timeout SECONDS allows longer)\n"
    )
    assert sleepers_within(database_url, 47, 0) == []


@pytest.mark.parametrize("value", ["abc", "0", "-1", "nan", "inf", "2147484", ""])
def test_a_bad_statement_timeout_is_refused_with_one_line_and_exit_2(database_url, value):
    outcome = on(database_url, "explain", "--sql", "SELECT 1", "--statement-timeout", value)

    assert (outcome.exit_code, outcome.stdout) == (2, "")
    assert outcome.stderr == (
        f"concord: --statement-timeout must be a number of seconds from 0.001 to 2,147,483, not {value!r}\n"
    )


@pytest.mark.parametrize(
    ("how", "code", "said"),
    [(signal.SIGTERM, 143, "concord: terminated"), (signal.SIGINT, 130, "concord: interrupted")],
    ids=["SIGTERM", "Ctrl-C"],
)
def test_a_signal_during_explain_sql_cancels_the_statement_on_the_server(
    database_url, tmp_path, how, code, said
):
    command = [*CONCORD, "explain", "--sql", "SELECT pg_sleep(60)", "--database-url", url_text(database_url)]
    with (tmp_path / "stdout").open("w") as out, (tmp_path / "stderr").open("w") as err:
        process = subprocess.Popen(command, stdout=out, stderr=err, start_new_session=True)
    try:
        with psycopg.connect(dsn(database_url), autocommit=True) as conn:
            deadline = time.monotonic() + 60
            while not sleepers(conn, 60):
                assert process.poll() is None, (tmp_path / "stderr").read_text()
                assert time.monotonic() < deadline, "the statement never started"
                time.sleep(0.05)
        process.send_signal(how)
        process.wait(timeout=10)
        left = sleepers_within(database_url, 60, 3.0)
    finally:
        process.kill()
        process.wait()
    stderr = (tmp_path / "stderr").read_text()
    assert (process.returncode, stderr.splitlines()[-1:], left) == (code, [said], []), stderr
