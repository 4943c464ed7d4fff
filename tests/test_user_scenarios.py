"""A user's own scenario, from a file concord has never seen, through the real command line.

The lost update is forced with a barrier inside the user's transaction (see
`user_scenario_files`), so every assertion is about an exact outcome.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
from cli_runner import on, run
from test_race_support import sessions_left, url_text
from user_scenario_files import write

from concord.locking import get_strategy
from concord.locking.retry import RetryPolicy
from concord.race.executors.processes import PRELOAD
from concord.race.scenarios import get_scenario
from concord.race.scenarios.program import Fixture
from concord.race.worker import WorkerJob


def race(database_url, tmp_path, *args: str):
    outcome = on(database_url, "race", "--json", "--out", str(tmp_path), *args)
    return outcome, (outcome.json() if outcome.stdout.strip() else None)


def test_a_read_modify_write_transfer_loses_money_under_none_at_read_committed(database_url, tmp_path):
    scenario = f"{write(tmp_path)}:racing"
    outcome, document = race(
        database_url, tmp_path, "-s", scenario, "--strategy", "none", "-w", "2", "--ops", "2"
    )
    assert outcome.exit_code == 0, outcome.stderr
    [cell] = document["cells"]
    assert (cell["scenario"], cell["commits"], cell["violations"]) == ("test-bank", 2, 1)
    # worker 0 moved 10 from 0 to 1, worker 1 from 1 to 2, each from balances read before the other wrote
    assert cell["verdict"] in (
        "the accounts hold 290 in total, not 300",
        "the accounts hold 310 in total, not 300",
    )
    assert document["parameters"]["scenario_source"] == scenario


@pytest.mark.parametrize("isolation", ["serializable", "repeatable read"])
def test_the_same_transfers_keep_the_money_at_a_higher_isolation_level_with_the_failure_retried(
    database_url, tmp_path, isolation
):
    scenario = f"{write(tmp_path)}:racing"
    _, document = race(
        database_url, tmp_path, "-s", scenario, "--strategy", "none", "-i", isolation, "-w", "2", "--ops", "2"
    )
    [cell] = document["cells"]
    assert (cell["violations"], cell["commits"], cell["retries"]) == (0, 2, 1)
    assert cell["conflicts"]["serialization_failure"] == 1
    assert cell["verdict"] == "no anomaly; 1 serialization failure: 1 retried"


def test_optimistic_compares_the_version_the_user_read_and_retries_the_stale_write(database_url, tmp_path):
    scenario = f"{write(tmp_path)}:racing"
    _, document = race(
        database_url, tmp_path, "-s", scenario, "--strategy", "optimistic", "-w", "2", "--ops", "2"
    )
    [cell] = document["cells"]
    assert (cell["violations"], cell["commits"], cell["conflicts"]["stale_version"]) == (0, 2, 1)


def test_pessimistic_and_advisory_keep_the_money_at_read_committed(database_url, tmp_path):
    scenario = f"{write(tmp_path)}:bank"
    outcome, document = race(
        database_url,
        tmp_path,
        "-s",
        scenario,
        "--strategy",
        "pessimistic,advisory,ordered",
        "-w",
        "4",
        "--ops",
        "300",
    )
    assert outcome.exit_code == 0, outcome.stderr
    found = [(c["strategy"], c["commits"], c["violations"]) for c in document["cells"]]
    assert found == [("pessimistic", 300, 0), ("advisory", 300, 0), ("ordered", 300, 0)]


def test_the_processes_executor_imports_the_users_file_in_each_worker(database_url, tmp_path):
    scenario = f"{write(tmp_path)}:bank"
    outcome, document = race(
        database_url,
        tmp_path,
        "-s",
        scenario,
        "--strategy",
        "pessimistic",
        "-e",
        "processes",
        "-w",
        "2",
        "--ops",
        "60",
    )
    assert outcome.exit_code == 0, outcome.stderr
    [cell] = document["cells"]
    assert (cell["executor"], cell["commits"], cell["violations"], cell["worker_errors"]) == (
        "processes",
        60,
        0,
        [],
    )


def test_results_files_and_the_report_work_for_a_users_scenario(database_url, tmp_path):
    scenario = f"{write(tmp_path)}:bank"
    outcome, document = race(
        database_url, tmp_path, "-s", scenario, "--strategy", "ordered", "-w", "2", "--ops", "20"
    )
    assert outcome.exit_code == 0, outcome.stderr
    files = {kind: Path(path) for kind, path in document["files"].items()}
    assert files["json"].name.endswith("-test-bank.json")
    assert json.loads(files["json"].read_text())["cells"][0]["scenario"] == "test-bank"
    assert "test-bank" in files["csv"].read_text()
    assert "the accounts hold 300 in total" in files["md"].read_text()
    assert files["traces"].read_text().count('"outcome": "committed"') == 20
    report = run("report", str(files["json"]), "-o", str(tmp_path / "report.html"))
    assert report.exit_code == 0, report.stderr
    page = (tmp_path / "report.html").read_text()
    assert "test-bank" in page and f"--scenario {scenario}" in page


def test_a_sweep_runs_a_users_scenario_named_in_an_experiment_file_and_plots_it(database_url, tmp_path):
    write(tmp_path)
    experiment = tmp_path / "bank.toml"
    experiment.write_text('scenario = "mybank.py:bank"\nstrategies = ["ordered"]\nworkers = [2]\nops = 20\n')
    outcome = on(database_url, "sweep", "-x", str(experiment), "-r", "2", "--json", "--out", str(tmp_path))
    assert outcome.exit_code == 0, outcome.stderr
    document = outcome.json()
    [cell] = document["cells"]
    assert (cell["scenario"], cell["repeats"], cell["commits"], cell["violations"]) == ("test-bank", 2, 40, 0)
    chart = tmp_path / "bank.png"
    plotted = run("plot", document["files"]["json"], "-o", str(chart))
    assert plotted.exit_code == 0, plotted.stderr
    assert chart.read_bytes().startswith(b"\x89PNG")


def test_a_worker_process_unpickles_a_users_program_without_sqlalchemy(tmp_path):
    scenario = get_scenario(f"{write(tmp_path)}:bank")
    program = scenario.program(get_strategy("advisory"), Fixture(board_id=0, workers=1))
    job = WorkerJob(0, "host=", "read committed", program, RetryPolicy(), frozenset(), 1, 10, 0)
    child = f"""
import importlib, json, pickle, sys
for name in {PRELOAD!r}:
    if name != "__main__":
        importlib.import_module(name)
job = pickle.loads(sys.stdin.buffer.read())
print(json.dumps({{"heavy": [m for m in sys.modules if m.startswith(("sqlalchemy", "concord.models"))],
                   "user": job.program._user().name}}))
"""
    done = subprocess.run(
        [sys.executable, "-c", child], input=pickle.dumps(job), capture_output=True, check=True
    )
    assert json.loads(done.stdout) == {"heavy": [], "user": "test-bank"}
    assert pickle.loads(pickle.dumps(program))._scenario is None  # the object itself never travels


def test_nothing_is_left_running_after_a_user_transaction_fails(database_url, tmp_path):
    broken = write(
        tmp_path,
        "name = 'broken'\ninvariant = 'x'\ndef setup(conn): pass\n"
        "def transaction(tx): tx.execute('SELECT 1/0')\ndef check(conn): return []\n",
        "broken.py",
    )
    outcome, document = race(
        database_url, tmp_path, "-s", str(broken), "--strategy", "none,pessimistic", "-w", "3"
    )
    assert outcome.exit_code == 1
    assert [c["strategy"] for c in document["cells"]] == ["none", "pessimistic"]  # the run went on
    assert sessions_left(database_url) == 0


@pytest.mark.skipif(bool(os.environ.get("CONCORD_TEST_DATABASE_URL")), reason="about the embedded server")
def test_on_the_embedded_server_a_users_scenario_races_in_a_database_of_its_own(tmp_path, database_url):
    from concord.race.engine import USER_DATABASE, race_url

    user = get_scenario(f"{write(tmp_path)}:bank")
    assert race_url(None, user).database == USER_DATABASE == "scenarios"  # created on first use
    assert race_url(None, get_scenario("counter")).database == "concord"
    assert race_url(url_text(database_url), user).database == database_url.database  # a URL given is used
