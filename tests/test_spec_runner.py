"""Running the project's own specs on the test server: output byte for byte as isolationtester's.

Each tests/specs/NAME.out was printed by PostgreSQL's own isolationtester (15) for NAME.spec; the
runner must print exactly the same, on the embedded server and on CONCORD_TEST_DATABASE_URL.
Lock waits are detected by the server (pg_isolation_test_session_is_blocked), never by timing.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from conftest import libpq

from concord.spec import parse, plan, run_specs
from concord.spec.connection import describe
from concord.spec.suite import PlannedSpec

SPECS = Path(__file__).parent / "specs"


def run_one(server_url, path: Path, *, step_timeout: float = 30.0):
    [outcome] = run_specs(plan([path], None), database_url=libpq(server_url), step_timeout=step_timeout)
    return outcome


OWN_SPECS = ["lock-wait", "errors", "markers", "notices", "notice-marker", "interleavings", "terminated"]


@pytest.mark.parametrize("name", OWN_SPECS)
def test_the_output_is_isolationtesters_byte_for_byte(server_url, name: str) -> None:
    outcome = run_one(server_url, SPECS / f"{name}.spec")
    assert outcome.transcript.text == (SPECS / f"{name}.out").read_text()
    assert outcome.transcript.aborted is None


def test_teardown_errors_are_reported_and_a_setup_failure_then_ends_the_spec(server_url) -> None:
    outcome = run_one(server_url, SPECS / "teardown-errors.spec")
    assert outcome.transcript.text == (SPECS / "teardown-errors.out").read_text()
    assert outcome.transcript.aborted == 'setup failed: ERROR:  relation "counter" already exists'
    assert len(outcome.transcript.permutations) == 2


def test_a_step_given_to_a_blocked_session_waits_for_it_and_is_cancelled_after_the_step_timeout(
    server_url,
) -> None:
    outcome = run_one(server_url, SPECS / "invalid-permutation.spec", step_timeout=1.0)
    assert outcome.transcript.text == (SPECS / "invalid-permutation.out").read_text()
    [permutation] = outcome.transcript.permutations
    waited = permutation.launched[1]
    assert (waited.name, waited.waited, waited.blocked_by) == ("s2_lock", True, ["s1"])
    assert [error["sqlstate"] for error in waited.errors] == ["57014"]


def test_the_records_say_who_blocked_whom_and_which_errors_had_which_sqlstate(server_url) -> None:
    outcome = run_one(server_url, SPECS / "lock-wait.spec")
    [permutation] = outcome.transcript.permutations
    update = next(record for record in permutation.launched if record.name == "s2_update")
    assert (update.waited, update.blocked_by, update.completed) == (True, ["s1"], True)
    errors = run_one(server_url, SPECS / "errors.spec").transcript.permutations[0].launched
    assert [[error["sqlstate"] for error in record.errors] for record in errors] == [[], ["22012"], ["23505"]]


def test_each_spec_runs_in_a_database_of_its_own_that_is_dropped_afterwards(server_url) -> None:
    spec = parse("session s step a { SELECT current_database() AS db }")
    [outcome] = run_specs([PlannedSpec(Path("own.spec"), spec, None)], database_url=libpq(server_url))
    [record] = outcome.transcript.permutations[0].launched
    [table] = record.results
    assert table["columns"] == ["db"]
    [[name]] = table["rows"]
    assert name.startswith("concord_spec_")
    with psycopg.connect(libpq(server_url)) as conn:
        left = conn.execute("SELECT count(*) FROM pg_database WHERE datname = %s", [name]).fetchone()
    assert left == (0,)


def test_a_failing_setup_ends_the_spec_as_isolationtester_exits(server_url) -> None:
    # The expected text is what isolationtester 15 printed for this spec.
    spec = parse("setup { SELECT 1 AS one; SELECT * FROM missing; }\nsession s step a { SELECT 1 }")
    [outcome] = run_specs([PlannedSpec(Path("bad.spec"), spec, None)], database_url=libpq(server_url))
    assert outcome.transcript.text == (
        "Parsed test spec with 1 sessions\n\nstarting permutation: a\n"
        'setup failed: ERROR:  relation "missing" does not exist\n'
        "LINE 1: SELECT 1 AS one; SELECT * FROM missing;\n"
        "                                       ^\n"
    )
    assert outcome.transcript.aborted is not None and not outcome.ok


def test_a_spec_needing_a_missing_extension_is_skipped_with_the_reason(server_url) -> None:
    spec = parse("setup { CREATE EXTENSION concord_no_such_extension; }\nsession s step a { SELECT 1 }")
    [outcome] = run_specs([PlannedSpec(Path("ext.spec"), spec, None)], database_url=libpq(server_url))
    assert outcome.skipped == "needs the extension concord_no_such_extension, which the server does not have"
    assert outcome.transcript.text == ""


def test_a_spec_with_prepared_transactions_is_skipped_only_where_the_server_has_none(server_url) -> None:
    spec = parse("session s step a { BEGIN; PREPARE TRANSACTION 'p'; } step b { ROLLBACK PREPARED 'p'; }")
    with psycopg.connect(libpq(server_url)) as conn:
        [setting] = conn.execute("SHOW max_prepared_transactions").fetchone()
    [outcome] = run_specs([PlannedSpec(Path("2pc.spec"), spec, None)], database_url=libpq(server_url))
    if int(setting) == 0:
        assert (
            outcome.skipped == "needs prepared transactions, and the server has max_prepared_transactions = 0"
        )
    else:
        assert outcome.skipped is None and "step b: ROLLBACK PREPARED 'p';\n" in outcome.transcript.text


def test_a_result_isolationtester_has_no_format_for_is_named_by_its_status(server_url) -> None:
    conn = psycopg.connect(libpq(server_url), autocommit=True)
    try:
        result = conn.pgconn.exec_(b"COPY (SELECT 1) TO STDOUT")
        assert describe(result) == ("unexpected result status: PGRES_COPY_OUT\n", None)
    finally:
        conn.close()
