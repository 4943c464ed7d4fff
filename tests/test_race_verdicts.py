"""Verdicts that never lie: what a cell reports is checked against what the server did.

`transfer`'s count of lost moves is compared with an audit trigger's log of every committed
write; the accounting of operations, latencies and retries is checked to add up exactly.
"""

from __future__ import annotations

import json

import psycopg
import pytest
from cli_runner import on
from test_race_support import dsn, url_text

from concord.race import Experiment, run_experiment

RC = "read committed"

AUDIT = """
CREATE TABLE move_audit (task_id bigint NOT NULL, old_list bigint NOT NULL, new_list bigint NOT NULL);
CREATE FUNCTION log_move() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO move_audit VALUES (OLD.id, OLD.list_id, NEW.list_id);
    RETURN NULL;
END $$;
CREATE TRIGGER log_move AFTER UPDATE ON tasks FOR EACH ROW EXECUTE FUNCTION log_move();
"""


@pytest.fixture
def audit(database_url):
    """A connection to the test database whose tasks log each committed UPDATE's old and new list
    (an aborted transaction's log rows roll back with it)."""
    with psycopg.connect(dsn(database_url), autocommit=True) as conn:
        conn.execute(AUDIT)
        yield conn


@pytest.mark.parametrize("executor", ["threads", "processes", "asyncio"])
def test_transfer_counts_exactly_the_moves_the_audit_saw_move_nothing(database_url, audit, executor):
    experiment = Experiment(
        scenario="transfer", strategies=("none",), isolations=(RC,), workers=(4,), ops=8, executor=executor
    )
    for run in range(5):
        audit.execute("TRUNCATE move_audit")
        [cell] = run_experiment(experiment, database_url=url_text(database_url)).cells
        writes, no_ops = audit.execute(
            "SELECT count(*), count(*) FILTER (WHERE old_list = new_list) FROM move_audit"
        ).fetchone()
        assert cell.worker_errors == [], f"run {run}"
        assert (cell.details["moves"], cell.details["lost_moves"]) == (writes, no_ops), f"run {run}"
        # The lists' sizes match the moves that moved something: nothing else is reported.
        assert cell.violations == no_ops, f"run {run}"


@pytest.mark.parametrize("executor", ["threads", "processes", "asyncio"])
def test_claim_queue_counts_no_attempt_or_latency_for_the_probe_that_finds_the_backlog_empty(
    database_url, executor
):
    experiment = Experiment(
        scenario="claim-queue",
        strategies=("skip_locked",),
        isolations=(RC,),
        workers=(4,),
        executor=executor,
        duration_s=120,  # an upper bound: the cell ends when every worker found the backlog empty
    )
    [cell] = run_experiment(experiment, database_url=url_text(database_url)).cells
    assert (cell.violations, cell.worker_errors, cell.details["drained"]) == (0, [], True)
    assert cell.operations == {"done": 3000, "declined": 0, "gave_up": 0}
    assert cell.latency_ms["samples"] == cell.commits == 3000
    assert cell.attempts == cell.commits + sum(cell.conflicts.values())
    assert cell.trace["lines"] + cell.trace["dropped"] == cell.attempts


def _table_row(stdout: str, first: list[str]) -> list[str]:
    [row] = [line.split() for line in stdout.splitlines() if line.split()[: len(first)] == first]
    return row


def test_the_race_table_and_its_verdict_give_the_same_retries_and_give_ups(database_url, tmp_path):
    # Eight workers on one counter under serializable, two tries each: conflicts by the hundred,
    # some retried, and (usually) some operations giving up.
    outcome = on(
        database_url,
        *("race", "--isolation", "serializable", "--strategy", "none", "--workers", "8"),
        *("--ops", "200", "--max-tries", "2", "--out", str(tmp_path)),
    )
    assert outcome.exit_code == 0, outcome.stderr
    [cell] = json.loads(next((tmp_path / "results").glob("*.json")).read_text())["cells"]
    conflicts = cell["conflicts"]["serialization_failure"]
    assert conflicts == cell["retries"] + cell["failures"] == cell["attempts"] - cell["commits"]
    said = f"no anomaly; {conflicts:,} serialization failures: {cell['retries']:,} retried"
    if cell["failures"]:
        said += f", {cell['failures']:,} gave up after max tries"
    assert cell["verdict"] == said
    # The table's row: # strategy iso workers secs commits/s commits retries gave-up ...
    row = _table_row(outcome.stdout, ["1", "none", "SER"])
    assert row[4] == f"{cell['duration_s']:,.1f}"
    assert (row[7], row[8]) == (f"{cell['retries']:,}", f"{cell['failures']:,}")
    assert said in " ".join(outcome.stdout.split())  # the verdict beside it, wrapped or not


def test_a_cell_that_runs_out_of_work_shows_how_long_it_ran_not_the_time_allowed(database_url, tmp_path):
    outcome = on(
        database_url,
        *("race", "--scenario", "claim-queue", "--strategy", "skip_locked", "--workers", "4"),
        *("--duration", "300", "--out", str(tmp_path)),
    )
    assert outcome.exit_code == 0, outcome.stderr
    [cell] = json.loads(next((tmp_path / "results").glob("*.json")).read_text())["cells"]
    assert cell["details"]["drained"] and cell["duration_s"] < 300
    assert "concord race: claim-queue (threads, up to 300 s per cell)" in outcome.stdout
    assert _table_row(outcome.stdout, ["1", "skip_locked", "RC"])[4] == f"{cell['duration_s']:,.1f}"
    markdown = next((tmp_path / "results").glob("*.md")).read_text()
    assert "up to 300 s per cell" in markdown
    assert f"| skip_locked | read committed | 4 | {cell['duration_s']:,.1f} |" in markdown
