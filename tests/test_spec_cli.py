"""`concord spec run` through concord's real error policy: output, --expected, --json, bad input."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from cli_runner import run, url_text
from conftest import libpq

SPECS = Path(__file__).parent / "specs"


@pytest.fixture
def spec_run(server_url):
    def invoke(*args: str):
        return run("spec", "run", *args, "--database-url", url_text(server_url))

    return invoke


def test_the_output_goes_to_stdout_as_isolationtester_prints_it(spec_run) -> None:
    outcome = spec_run(str(SPECS / "lock-wait.spec"))
    assert (outcome.exit_code, outcome.stderr) == (0, "")
    assert outcome.stdout == (SPECS / "lock-wait.out").read_text()


def test_a_spec_given_up_as_isolationtester_would_prints_its_output_and_exits_1(spec_run) -> None:
    outcome = spec_run(str(SPECS / "teardown-errors.spec"))
    reason = 'setup failed: ERROR:  relation "counter" already exists'
    assert (outcome.exit_code, outcome.stderr) == (
        1,
        f"given up {SPECS / 'teardown-errors.spec'}: {reason}\n",
    )
    assert outcome.stdout == (SPECS / "teardown-errors.out").read_text()


def test_expected_output_that_matches_says_ok_and_exits_0(spec_run) -> None:
    outcome = spec_run(str(SPECS / "lock-wait.spec"), str(SPECS / "notices.spec"), "--expected", str(SPECS))
    assert outcome.exit_code == 0
    assert outcome.stdout.splitlines() == [
        f"ok {SPECS / 'lock-wait.spec'} ({SPECS / 'lock-wait.out'})",
        f"ok {SPECS / 'notices.spec'} ({SPECS / 'notices.out'})",
    ]
    assert outcome.stderr == "2 specs: 2 identical, 0 differ, 0 skipped\n"


def test_a_difference_from_the_expected_output_is_shown_as_a_unified_diff_and_exits_1(
    spec_run, tmp_path
) -> None:
    shutil.copy(SPECS / "lock-wait.spec", tmp_path)
    expected = (SPECS / "lock-wait.out").read_text().replace("    180", "    200")  # a doubled 100: s1 lost
    (tmp_path / "lock-wait.out").write_text(expected)
    outcome = spec_run(str(tmp_path / "lock-wait.spec"), "--expected", str(tmp_path))
    assert outcome.exit_code == 1
    lines = outcome.stdout.splitlines()
    assert lines[:3] == [
        f"differs {tmp_path / 'lock-wait.spec'} ({tmp_path / 'lock-wait.out'})",
        f"--- {tmp_path / 'lock-wait.out'}",
        "+++ actual output",
    ]
    assert [line for line in lines[3:] if line[:1] in "+-"] == ["-    200", "+    180"]
    assert outcome.stderr == "1 spec: 0 identical, 1 differ, 0 skipped\n"


def test_an_alternative_expected_file_is_accepted_as_pg_regress_does(spec_run, tmp_path) -> None:
    shutil.copy(SPECS / "notices.spec", tmp_path)
    (tmp_path / "notices.out").write_text("something else\n")
    shutil.copy(SPECS / "notices.out", tmp_path / "notices_1.out")
    outcome = spec_run(str(tmp_path / "notices.spec"), "--expected", str(tmp_path))
    assert outcome.exit_code == 0
    assert outcome.stdout == f"ok {tmp_path / 'notices.spec'} ({tmp_path / 'notices_1.out'})\n"


def test_json_gives_each_permutations_steps_blockers_errors_and_results(spec_run) -> None:
    outcome = spec_run(str(SPECS / "lock-wait.spec"), "--json")
    assert outcome.exit_code == 0
    [document] = outcome.json()["specs"]
    assert document["output"] == (SPECS / "lock-wait.out").read_text()
    [permutation] = document["permutations"]
    assert permutation["steps"] == ["s1_update", "s2_update", "s1_commit"]
    update = permutation["launched"][1]
    assert (update["session"], update["waited"], update["blocked_by"], update["errors"]) == (
        "s2",
        True,
        ["s1"],
        [],
    )
    assert update["results"] == [{"columns": ["balance"], "rows": [["180"]]}]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "session s\nstep a { SELECT 1 }\npermutation a b\n",
            'broken.spec:3: undefined step "b" specified in permutation',
        ),
        ("session s\nstep a { SELECT 1\n", "broken.spec:2: unterminated sql block"),
    ],
)
def test_a_broken_spec_gets_one_line_and_exit_2_before_anything_runs(
    spec_run, tmp_path, text, message
) -> None:
    (tmp_path / "broken.spec").write_text(text)
    outcome = spec_run(str(SPECS / "lock-wait.spec"), str(tmp_path / "broken.spec"))
    assert (outcome.exit_code, outcome.stdout) == (2, "")
    assert outcome.stderr == f"concord: {tmp_path / message}\n"


def test_a_missing_spec_or_expected_output_gets_one_line_and_exit_2(spec_run, tmp_path) -> None:
    missing = spec_run(str(tmp_path / "nope.spec"))
    assert (missing.exit_code, missing.stderr) == (
        2,
        f"concord: {tmp_path / 'nope.spec'}: cannot read the spec: No such file or directory\n",
    )
    no_out = spec_run(str(SPECS / "lock-wait.spec"), "--expected", str(tmp_path))
    assert (no_out.exit_code, no_out.stderr) == (
        2,
        f"concord: {SPECS / 'lock-wait.spec'}: no expected output lock-wait.out in {tmp_path}\n",
    )


def test_a_step_timeout_that_is_not_positive_is_a_usage_error(spec_run) -> None:
    outcome = spec_run(str(SPECS / "lock-wait.spec"), "--step-timeout", "0")
    assert (outcome.exit_code, outcome.stdout) == (2, "")
    assert "Invalid value for '--step-timeout'" in outcome.stderr


def test_ctrl_c_while_a_step_waits_drops_the_specs_database_and_exits_130(server_url) -> None:
    url = url_text(server_url)
    spec = SPECS / "invalid-permutation.spec"
    environ = {k: v for k, v in os.environ.items() if k not in ("CONCORD_DATABASE_URL", "CONCORD_DEBUG")}
    command = [
        sys.executable,
        "-m",
        "concord",
        "spec",
        "run",
        str(spec),
        "--step-timeout",
        "60",
        "--database-url",
        url,
    ]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environ
    )
    try:
        # The server says when s2's step waits on s1's row lock: that is when the interrupt comes.
        database = _wait_for_lock_wait(libpq(server_url), "isolation/invalid-permutation/s2")
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert (process.returncode, stderr) == (130, "concord: interrupted\n")
    # Whether the runner had printed "<waiting ...>" yet is a race with the signal; the start is not.
    assert stdout.startswith(
        "Parsed test spec with 2 sessions\n\nstarting permutation: s1_lock s2_lock s2_after"
    )
    with psycopg.connect(libpq(server_url)) as conn:
        assert conn.execute("SELECT count(*) FROM pg_database WHERE datname = %s", [database]).fetchone() == (
            0,
        )


def _wait_for_lock_wait(dsn: str, application_name: str) -> str:
    query = "SELECT datname FROM pg_stat_activity WHERE application_name = %s AND wait_event_type = 'Lock'"
    deadline = time.monotonic() + 30
    with psycopg.connect(dsn, autocommit=True) as conn:
        while time.monotonic() < deadline:
            if row := conn.execute(query, [application_name]).fetchone():
                return row[0]
            time.sleep(0.05)  # polling the server's state, not lining anything up
    raise AssertionError(f"{application_name} never waited on a lock")
