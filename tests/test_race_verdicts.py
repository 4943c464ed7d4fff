"""Verdicts that never lie: what a cell reports is checked against what the server did.

`transfer`'s count of lost moves is compared with an audit trigger's log of every committed
write; the accounting of operations, latencies and retries is checked to add up exactly.
"""

from __future__ import annotations

import psycopg
import pytest
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
