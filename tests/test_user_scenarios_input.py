"""Bad user scenarios through the real command line: one line, the documented exit code, and the
run going on where the issue says it must (an exception in a transaction, a setup that fails)."""

from __future__ import annotations

import pytest
from cli_runner import on, run
from test_race_support import sessions_left
from user_scenario_files import write

HEAD = "name = 'probe'\ninvariant = 'nothing breaks'\n"
OK_SETUP = "def setup(conn):\n    pass\n"
OK_TRANSACTION = "def transaction(tx):\n    tx.execute('SELECT 1')\n"
OK_CHECK = "def check(conn):\n    return []\n"
SCENARIO = HEAD + OK_SETUP + OK_TRANSACTION + OK_CHECK


@pytest.mark.parametrize(
    ("text", "spec", "message"),
    [
        (SCENARIO, "{dir}/absent.py:probe", "scenario file {dir}/absent.py not found"),
        (SCENARIO, "{dir}:probe", "scenario file {dir} is a folder, not a Python file"),
        ("name = 'x'\ndef setup(conn):\n    return (\n", "{file}", "{file}:3: '(' was never closed"),
        (
            "import no_such_module_here\n",
            "{file}",
            "could not import {file}: ModuleNotFoundError: No module named "
            "'no_such_module_here' (at {file}:1, in <module>)",
        ),
        (SCENARIO, "{file}:bank", "{file} has no object named 'bank'"),
        (
            SCENARIO + "helper = 3\n",
            "{file}:helper",
            "{file}:helper is not a scenario: it has no setup, transaction, check, name, invariant "
            "(a scenario has name, invariant, setup(conn), transaction(tx) and check(conn))",
        ),
        (
            HEAD + OK_SETUP,
            "{file}",
            "{file} is not a scenario: it has no transaction, check (a scenario has name, "
            "invariant, setup(conn), transaction(tx) and check(conn))",
        ),
        (
            SCENARIO.replace("'probe'", "'my probe'"),
            "{file}",
            "{file}: name 'my probe' must be letters, digits, '-', '_' or '.' (it names the result files)",
        ),
        (
            SCENARIO,
            "no_such_package.scenarios:bank",
            "no module named 'no_such_package.scenarios' (is it installed, or on PYTHONPATH?)",
        ),
        (
            SCENARIO,
            "{file} -e asyncio",
            "probe: the asyncio executor runs statements without blocking its event loop, "
            "and a scenario's transaction(tx) is synchronous Python: use --executor threads or processes",
        ),
        (
            SCENARIO,
            "{file} --strategy skip_locked",
            "skip_locked makes no sense for probe: tx.lock names the rows it locks; SKIP LOCKED would "
            "skip a held row instead of waiting for it (it is for queues: write FOR UPDATE SKIP LOCKED "
            "in tx.execute)",
        ),
    ],
)
def test_a_scenario_that_does_not_load_is_one_line_and_exit_2(tmp_path, monkeypatch, text, spec, message):
    monkeypatch.chdir(tmp_path)  # paths are shown relative to the working directory
    write(tmp_path, text, "probe.py")
    args = spec.format(dir="sub", file="probe.py").split()
    (tmp_path / "sub").mkdir()
    outcome = run("race", "--scenario", *args, "--out", str(tmp_path))
    expected = message.format(dir="sub", file="probe.py")
    assert (outcome.exit_code, outcome.stdout, outcome.stderr) == (2, "", f"concord: {expected}\n")
    assert not (tmp_path / "results").exists()


def test_a_check_that_returns_no_list_stops_the_run_before_it_races_with_exit_2(database_url, tmp_path):
    probe = write(tmp_path, SCENARIO.replace("return []", "return 0"), "probe.py")
    outcome = on(database_url, "race", "--scenario", str(probe), "--out", str(tmp_path))
    assert outcome.exit_code == 2
    assert outcome.stderr == (
        f"concord: {probe}: check(conn) must return a list of violations (sentences; empty when the "
        "invariant holds) or (count, sentences), not int\n"
    )
    assert not (tmp_path / "results").exists()


def test_an_exception_in_the_transaction_ends_its_cell_as_an_error_saying_where_and_the_run_goes_on(
    database_url, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    text = SCENARIO.replace("tx.execute('SELECT 1')", "{}['missing']")
    write(tmp_path, text, "probe.py")
    outcome = on(database_url, "race", "-s", "probe.py", "--strategy", "none,advisory", "-w", "2", "--json")
    assert outcome.exit_code == 1
    error = "KeyError: 'missing' (at probe.py:6, in transaction) (worker 0)"
    assert outcome.stderr == f"concord: 2 cells failed; the first: {error}\n"
    cells = outcome.json()["cells"]
    assert [(c["strategy"], c["error"], c["verdict"]) for c in cells] == [
        ("none", error, f"error: {error}"),
        ("advisory", error, f"error: {error}"),
    ]
    assert sessions_left(database_url) == 0


def test_a_statement_the_server_refuses_names_its_sqlstate_and_the_users_line(
    database_url, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, SCENARIO.replace("SELECT 1", "SELECT nothing FROM nowhere"), "probe.py")
    outcome = on(database_url, "race", "-s", "probe.py", "--strategy", "none", "-w", "1", "--json")
    [cell] = outcome.json()["cells"]
    assert cell["error"] == (
        'UndefinedTable (42P01): relation "nowhere" does not exist (at probe.py:6, in transaction) (worker 0)'
    )


def test_an_exception_in_setup_refuses_the_cell_with_its_message(database_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(
        tmp_path, SCENARIO.replace("    pass\n", "    conn.execute('SELECT * FROM nowhere')\n", 1), "probe.py"
    )
    outcome = on(database_url, "race", "-s", "probe.py", "--strategy", "none,pessimistic", "--json")
    assert outcome.exit_code == 1
    refusal = (
        'setup failed: UndefinedTable (42P01): relation "nowhere" does not exist (at probe.py:4, in setup)'
    )
    cells = outcome.json()["cells"]
    assert [(c["commits"], c["violations"], c["verdict"]) for c in cells] == [
        (0, None, f"refused: {refusal}")
    ] * 2


def test_optimistic_on_a_table_without_a_version_column_says_what_to_add(database_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    setup = (
        "def setup(conn):\n    conn.execute('DROP TABLE IF EXISTS t')\n"
        "    conn.execute('CREATE TABLE t (id int PRIMARY KEY, v int)')\n"
        "    conn.execute('INSERT INTO t VALUES (1, 0)')\n"
    )
    transaction = (
        "def transaction(tx):\n    (v,) = tx.read('t', 1, ['v'])\n    tx.write('t', 1, {'v': v + 1})\n"
    )
    write(tmp_path, HEAD + setup + transaction + OK_CHECK, "probe.py")
    outcome = on(database_url, "race", "-s", "probe.py", "--strategy", "optimistic", "-w", "1", "--json")
    [cell] = outcome.json()["cells"]
    assert cell["error"] == (
        "tx: optimistic needs an integer version column on t and it has none: ALTER TABLE t ADD COLUMN "
        "version integer NOT NULL DEFAULT 0 (at probe.py:8, in transaction) (worker 0)"
    )


def test_a_starting_state_that_breaks_the_invariant_refuses_the_cell(database_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, SCENARIO.replace("return []", "return ['the start is already wrong']"), "probe.py")
    outcome = on(database_url, "race", "-s", "probe.py", "--strategy", "none", "--json")
    assert outcome.exit_code == 1
    [cell] = outcome.json()["cells"]
    assert cell["verdict"] == "refused: the invariant does not hold after setup: the start is already wrong"


def test_an_async_transaction_is_refused_before_anything_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, SCENARIO.replace("def transaction", "async def transaction"), "probe.py")
    outcome = run("race", "--scenario", "probe.py", "--out", str(tmp_path))
    assert (outcome.exit_code, outcome.stderr) == (
        2,
        "concord: probe.py: transaction(tx) must be a plain function: concord calls it and commits when it "
        "returns (async def and generators are not supported)\n",
    )
