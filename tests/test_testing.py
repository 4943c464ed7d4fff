"""`concord.testing.race` from a test, the pytest plugin's fixture, and installed scenarios
(entry points in the group ``concord.scenarios``)."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
import textwrap
import uuid

import pytest
from cli_runner import run, url_text
from user_scenario_files import BANK, write

from concord.errors import InvalidInput
from concord.race.scenarios import get_scenario
from concord.testing import RaceError, race


def load(tmp_path, name: str = "bank"):
    """The user's object, imported as a user's test would (by module name from its folder)."""
    module = f"userbank_{uuid.uuid4().hex[:8]}"
    write(tmp_path, BANK, f"{module}.py")
    sys.path.insert(0, str(tmp_path))
    try:
        return getattr(importlib.import_module(module), name)
    finally:
        sys.path.remove(str(tmp_path))


def test_race_says_the_lost_update_breaks_the_invariant_and_explains_it(database_url, tmp_path):
    outcome = race(
        load(tmp_path, "racing"), strategy="none", workers=2, ops=2, database_url=url_text(database_url)
    )
    assert (outcome.holds, outcome.violations, outcome.commits) == (False, 1, 2)
    assert outcome.explanation in (
        "the accounts hold 290 in total, not 300",
        "the accounts hold 310 in total, not 300",
    )
    assert outcome.findings == [outcome.explanation]


def test_race_counts_the_serialization_failures_it_retried(database_url, tmp_path):
    racing = load(tmp_path, "racing")
    outcome = race(
        racing,
        strategy="none",
        isolation="serializable",
        workers=2,
        ops=2,
        database_url=url_text(database_url),
    )
    assert (outcome.holds, outcome.commits, outcome.conflicts["serialization_failure"]) == (True, 2, 1)
    assert outcome.explanation == "no anomaly; 1 serialization failure: 1 retried"


@pytest.mark.parametrize("strategy", ["pessimistic", "advisory"])
def test_race_holds_under_the_locking_strategies(database_url, tmp_path, strategy):
    outcome = race(load(tmp_path), strategy=strategy, workers=4, ops=200, database_url=url_text(database_url))
    assert (outcome.holds, outcome.violations, outcome.commits) == (True, 0, 200)


def test_race_without_a_database_url_uses_a_fresh_database_and_drops_it(tmp_path, server_url):
    import psycopg

    def databases() -> set[str]:
        with psycopg.connect(url_text(server_url.set(drivername="postgresql"))) as conn:
            return {
                r[0]
                for r in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'concord_test_%'")
            }

    before = databases()
    outcome = race(load(tmp_path), strategy="ordered", workers=2, ops=10)
    assert (outcome.holds, outcome.commits) == (True, 10)
    assert databases() == before


def test_race_raises_with_the_users_line_when_the_transaction_fails(database_url, tmp_path):
    broken = write(
        tmp_path, BANK.replace("source, target = tx.rng", "source, target = 1 / 0, tx.rng"), "broken.py"
    )
    with pytest.raises(
        RaceError, match=r"ZeroDivisionError: division by zero \(at .*broken.py:\d+, in transaction\)"
    ):
        race(f"{broken}:bank", workers=1, ops=1, database_url=url_text(database_url))


def test_an_object_defined_in_a_function_runs_on_threads_and_is_refused_on_processes(database_url, tmp_path):
    class Local:
        name, invariant = "local", "nothing"

        def setup(self, conn):
            pass

        def transaction(self, tx):
            tx.execute("SELECT 1")

        def check(self, conn):
            return []

    assert race(Local(), workers=1, ops=3, database_url=url_text(database_url)).commits == 3
    with pytest.raises(
        InvalidInput, match="the processes executor imports the scenario in every worker process"
    ):
        race(Local(), workers=1, ops=3, executor="processes", database_url=url_text(database_url))


def test_a_pytest_file_races_a_scenario_with_the_plugins_fresh_database(tmp_path):
    write(tmp_path, BANK, "bankmodule.py")
    (tmp_path / "test_bank.py").write_text(
        textwrap.dedent(
            """
            from bankmodule import bank, racing
            from concord.testing import race

            def test_transfers_conserve_money(concord_database):
                outcome = race(bank, strategy="pessimistic", workers=4, ops=90, database_url=concord_database)
                assert outcome.holds, outcome.explanation

            def test_none_loses_money(concord_database):
                outcome = race(racing, strategy="none", workers=2, ops=2, database_url=concord_database)
                assert not outcome.holds, outcome.explanation

            def test_each_test_gets_a_database_of_its_own(concord_database, request):
                assert concord_database.rsplit("/", 1)[-1].startswith("concord_test_")
            """
        )
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(tmp_path),
            str(tmp_path),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 passed" in done.stdout


@pytest.fixture
def installed(tmp_path, monkeypatch):
    """A package registering the bank under the entry point ``bank`` (the metadata is faked: an
    installation costs seconds; the module itself is real and imported by its name)."""
    module = f"installed_bank_{uuid.uuid4().hex[:8]}"
    write(tmp_path, BANK, f"{module}.py")
    monkeypatch.syspath_prepend(str(tmp_path))
    entry = importlib.metadata.EntryPoint(name="bank", value=f"{module}:bank", group="concord.scenarios")
    real = importlib.metadata.entry_points

    def entry_points(**selection):
        if selection.get("group") == "concord.scenarios":
            return importlib.metadata.EntryPoints([entry])
        return real(**selection)

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)
    return module


def test_concord_scenarios_lists_an_installed_scenario_with_its_invariant(installed):
    outcome = run("scenarios", "--json")
    assert outcome.exit_code == 0, outcome.stderr
    listed = {s["name"]: s for s in outcome.json()}
    assert listed["bank"] == {
        "name": "bank",
        "source": f"{installed}:bank",
        "invariant": "the accounts hold 300 in total",
        "summary": "",
        "error": None,
    }
    assert listed["counter"]["source"] == "built in"


def test_an_installed_scenario_races_by_its_entry_point_name(installed, database_url, tmp_path):
    assert get_scenario("bank").name == "test-bank"
    outcome = run(
        "race",
        "-s",
        "bank",
        "--strategy",
        "ordered",
        "-w",
        "2",
        "--ops",
        "10",
        "--json",
        "--out",
        str(tmp_path),
        "--database-url",
        url_text(database_url),
    )
    assert outcome.exit_code == 0, outcome.stderr
    document = outcome.json()
    assert (document["parameters"]["scenario_source"], document["cells"][0]["commits"]) == ("bank", 10)
