"""`concord race` through its real error policy (CliRunner) and as a process (Ctrl-C)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from cli_runner import on, run
from test_race_support import dsn, sessions_left, url_text

from concord.race import load_experiment

EXPERIMENTS = sorted((Path(__file__).resolve().parent.parent / "experiments").glob("*.toml"))
# The command as a user runs it, from whichever environment runs the tests.
CONCORD = [sys.executable, "-m", "concord"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--workers", "0"], "workers must be at least 1, not 0"),
        (["--workers", "8,-2"], "workers must be at least 1, not -2"),
        (["--workers", "many"], "workers must be whole numbers, not 'many'"),
        (
            ["--scenario", "bank"],
            "unknown scenario 'bank': choose one of counter, assign, wip-limit, claim-queue, transfer, "
            "list-append, or name your own: path/to/file.py:NAME or package.module:NAME",
        ),
        (
            ["--strategy", "magic"],
            "unknown locking strategy 'magic': choose one of none, pessimistic, ordered, "
            "nowait, skip_locked, optimistic, advisory",
        ),
        (
            ["--isolation", "chaos"],
            "unknown isolation level 'chaos': choose one of read committed, repeatable read, serializable",
        ),
        (["--executor", "fibers"], "unknown executor 'fibers': choose one of threads, processes, asyncio"),
        (["--duration", "0"], "duration must be positive, not 0.0"),
        (["--duration", "-3"], "duration must be positive, not -3.0"),
        (["--ops", "0"], "ops must be at least 1, not 0"),
        (["--max-tries", "0"], "max tries must be at least 1, not 0"),
        (["--experiment", "no/such.toml"], "experiment file no/such.toml not found"),
    ],
)
def test_bad_input_is_refused_with_one_line_and_exit_code_2(args, message):
    outcome = run("race", *args)
    assert (outcome.exit_code, outcome.stdout, outcome.stderr) == (2, "", f"concord: {message}\n")


def test_an_unknown_event_loop_is_refused_before_anything_runs_or_is_written(database_url, tmp_path):
    outcome = on(
        database_url, "race", "-e", "asyncio", "--out", str(tmp_path), env={"CONCORD_EVENT_LOOP": "trio"}
    )
    assert (outcome.exit_code, outcome.stdout) == (2, "")
    assert outcome.stderr == "concord: CONCORD_EVENT_LOOP must be uvloop or asyncio, not 'trio'\n"
    assert list(tmp_path.iterdir()) == []


def test_uvloop_asked_for_but_not_installed_is_refused(database_url, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "uvloop", None)  # `import uvloop` raises ImportError
    outcome = on(
        database_url, "race", "-e", "asyncio", "--out", str(tmp_path), env={"CONCORD_EVENT_LOOP": "uvloop"}
    )
    assert (outcome.exit_code, outcome.stderr) == (
        2,
        "concord: CONCORD_EVENT_LOOP=uvloop, but uvloop is not installed\n",
    )
    assert list(tmp_path.iterdir()) == []


def test_without_uvloop_the_asyncio_executor_runs_on_asyncios_own_loop(database_url, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "uvloop", None)
    outcome = on(
        database_url, "race", "-e", "asyncio", "-w", "2", "--ops", "10", "--strategy", "pessimistic",
        "--json", "--out", str(tmp_path), env={"CONCORD_EVENT_LOOP": None},
    )  # fmt: skip
    document = json.loads(outcome.stdout)
    assert (document["parameters"]["event_loop"], document["cells"][0]["commits"]) == ("asyncio", 10)


def test_a_strategy_that_makes_no_sense_for_the_scenario_is_refused_saying_why():
    outcome = run("race", "--scenario", "wip-limit", "--strategy", "none,optimistic")
    assert outcome.exit_code == 2
    assert outcome.stderr == (
        "concord: optimistic makes no sense for wip-limit: each worker writes a different task and only "
        "reads the list, so no version it compares ever changes: a version check cannot see write skew "
        "(and lists carry no version)\n"
    )


def test_more_workers_than_the_server_accepts_are_refused_before_anything_starts(database_url):
    outcome = on(database_url, "race", "--workers", "5000", "--json")
    assert (outcome.exit_code, outcome.stdout) == (2, "")
    assert outcome.stderr.startswith(
        "concord: 5,000 workers need 5,003 connections but the server accepts only "
    )
    assert outcome.stderr.count("\n") == 1


@pytest.mark.parametrize("path", EXPERIMENTS, ids=[p.stem for p in EXPERIMENTS])
def test_every_shipped_experiment_file_loads_into_a_valid_matrix(path):
    experiment = load_experiment(path).validated()
    assert experiment.name == path.stem
    assert len(experiment.cells()) >= 3


def test_the_shipped_experiments_cover_every_scenario_and_a_users_own():
    assert sorted(load_experiment(p).validated().scenario for p in EXPERIMENTS) == sorted(
        ["counter", "assign", "wip-limit", "claim-queue", "transfer", "bank-transfer"]
    )


def test_json_prints_only_the_result_document_and_writes_the_files_under_out(database_url, tmp_path):
    outcome = on(
        database_url,
        "race",
        "--scenario",
        "counter",
        "--strategy",
        "none,pessimistic",
        "--isolation",
        "rc",
        "--workers",
        "2",
        "--ops",
        "20",
        "--json",
        "--out",
        str(tmp_path),
    )
    assert (outcome.exit_code, outcome.stderr) == (0, "")
    document = outcome.json()
    assert [(c["strategy"], c["isolation"], c["commits"]) for c in document["cells"]] == [
        ("none", "read committed", 20),
        ("pessimistic", "read committed", 20),
    ]
    assert document["interrupted"] is False
    assert document["parameters"]["ops"] == 20
    for kind in ("json", "csv", "md", "traces"):
        assert Path(document["files"][kind]).is_file()
    assert json.loads(Path(document["files"]["json"]).read_text())["cells"] == document["cells"]


def test_an_experiment_file_runs_with_command_line_options_laid_over_it(database_url, tmp_path):
    spec = tmp_path / "tiny.toml"
    spec.write_text('scenario = "claim-queue"\nstrategies = ["skip_locked"]\nworkers = [3]\nops = 30\n')
    outcome = on(
        database_url,
        "race",
        "--experiment",
        str(spec),
        "--isolation",
        "read committed,serializable",
        "--json",
        "--out",
        str(tmp_path),
    )
    assert outcome.exit_code == 0
    cells = outcome.json()["cells"]
    assert [(c["scenario"], c["strategy"], c["isolation"], c["workers"], c["violations"]) for c in cells] == [
        ("claim-queue", "skip_locked", "read committed", 3, 0),
        ("claim-queue", "skip_locked", "serializable", 3, 0),
    ]
    assert cells[0]["details"]["claimed"] == 30


def test_the_table_shows_one_row_and_a_verdict_per_cell(database_url, tmp_path):
    outcome = on(
        database_url,
        "race",
        "--scenario",
        "counter",
        "--strategy",
        "pessimistic,optimistic",
        "--workers",
        "2",
        "--ops",
        "10",
        "--out",
        str(tmp_path),
    )
    assert outcome.exit_code == 0
    lines = outcome.stdout.splitlines()
    assert any(line.split()[:3] == ["1", "pessimistic", "RC"] for line in lines)
    assert any(line.split()[:3] == ["2", "optimistic", "RC"] for line in lines)
    assert (
        "invariant: final points == committed increments (the difference is lost updates)" in outcome.stdout
    )


def _backends(url) -> int:
    with psycopg.connect(dsn(url), autocommit=True) as conn:
        query = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> %s"
        return conn.execute(query, (conn.info.backend_pid,)).fetchone()[0]


# The processes variant pays for a fork server that imports the whole CLI once (several seconds on
# a loaded machine); the library-level interrupt test covers processes in the default run.
SLOW_PROCESSES = pytest.param("processes", marks=pytest.mark.slow)


@pytest.mark.parametrize("executor", ["threads", SLOW_PROCESSES, "asyncio"])
def test_ctrl_c_exits_130_within_two_seconds_with_partial_results_and_nothing_left(
    database_url, tmp_path, executor
):
    command = [
        *CONCORD,
        "race",
        "--database-url",
        url_text(database_url),
        "--scenario",
        "counter",
        "--strategy",
        "pessimistic",
        "--workers",
        "4",
        "--executor",
        executor,
        "--duration",
        "60",
        "--json",
        "--out",
        str(tmp_path),
    ]
    out, err = tmp_path / "stdout", tmp_path / "stderr"
    # Output goes to files, not pipes: the fork server outlives the command by a moment and would
    # hold a pipe open, and what is measured is the command's own exit.
    with out.open("w") as stdout, err.open("w") as stderr:
        process = subprocess.Popen(command, stdout=stdout, stderr=stderr, text=True)
        try:
            deadline = time.monotonic() + 60
            while (
                _backends(database_url) < 5 and time.monotonic() < deadline
            ):  # 4 workers + the control session
                time.sleep(0.05)
            process.send_signal(signal.SIGINT)
            sent = time.monotonic()
            process.wait(timeout=10)
            took = time.monotonic() - sent
        finally:
            process.kill()
    assert process.returncode == 130
    assert err.read_text().splitlines()[-2:] == ["concord: partial results written", "concord: interrupted"]
    assert took < 2.0
    document = json.loads(out.read_text())
    assert (document["interrupted"], document["cells"][0]["interrupted"]) == (True, True)
    assert sessions_left(database_url) == 0


def test_with_json_on_stdout_the_live_display_still_shows_on_a_terminal_stderr(database_url, tmp_path):
    import os
    import pty

    leader, follower = pty.openpty()
    out = tmp_path / "run.json"
    with out.open("w") as stdout:
        process = subprocess.Popen(
            [*CONCORD, "race", "--database-url", url_text(database_url), "--strategy", "pessimistic",
             "--workers", "2", "--duration", "2", "--json", "--out", str(tmp_path)],
            stdout=stdout, stderr=follower, stdin=subprocess.DEVNULL, env={**os.environ, "COLUMNS": "200"},
        )  # fmt: skip
    os.close(follower)
    seen = b""
    try:
        while chunk := os.read(leader, 4096):
            seen += chunk
    except OSError:  # EIO once the child has closed its end
        pass
    assert process.wait(timeout=60) == 0
    assert b"commits (" in seen and b"s left" in seen  # the live line, drawn on the terminal
    assert json.loads(out.read_text())["cells"][0]["strategy"] == "pessimistic"  # stdout stays clean
