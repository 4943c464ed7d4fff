"""`concord anomalies` through Typer's CliRunner and concord's real error policy.

The command runs through `run_with_error_policy` (what `main()` calls) inside the runner's
isolation, so exit codes and the one-line errors are the ones a user sees.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from concord.cli import app
from concord.cli.errors import run_with_error_policy

CELL_KEYS = {
    "anomaly",
    "variant",
    "title",
    "isolation",
    "verdict",
    "evidence",
    "observation",
    "prevented_by",
    "seconds",
    "transcript",
}


@dataclass(frozen=True)
class Outcome:
    exit_code: int
    stdout: str
    stderr: str


@pytest.fixture
def anomalies(server_url, tmp_path):
    """Run ``concord anomalies ARGS...`` on the test server, writing results under tmp_path."""
    url = server_url.render_as_string(hide_password=False)

    def run(*args: str) -> Outcome:
        argv = ["anomalies", *args, "--database-url", url, "--out", str(tmp_path)]
        with CliRunner().isolation(env={"COLUMNS": "200", "CONCORD_DATABASE_URL": None}) as (out, err, _):
            code = run_with_error_policy(app, argv)
            sys.stdout.flush()
            sys.stderr.flush()
            return Outcome(code, out.getvalue().decode(), err.getvalue().decode())

    return run


def results_files(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "results").glob("*-anomalies.json"))


def test_the_matrix_shows_the_chosen_anomalies_at_every_level(anomalies, tmp_path):
    result = anomalies("--only", "P4,G2-item")
    assert result.exit_code == 0
    assert "Isolation anomalies on PostgreSQL" in result.stdout
    for header in ("read committed", "repeatable read", "serializable", "read"):
        assert header in result.stdout
    lines = result.stdout.splitlines()
    assert [
        line.split()[1] for line in lines if line.startswith("│ ") and line.split()[1] in ("P4", "G2-item")
    ] == ["P4", "G2-item"]
    assert "G0" not in result.stdout
    [path] = results_files(tmp_path)
    assert (
        result.stderr.strip()
        == f"8 cells in {json.loads(path.read_text())['seconds']:.1f}s; results written to {path}"
    )


def test_the_isolation_filter_keeps_only_the_named_columns(anomalies):
    result = anomalies("--only", "G2-item", "--isolation", "repeatable read")
    [row] = [line for line in result.stdout.splitlines() if "G2-item" in line]
    assert result.exit_code == 0
    assert "repeatable read" in result.stdout and "serializable" not in result.stdout
    assert row.split("│")[2].strip() == "possible"


def test_explain_prints_the_transcript_and_two_lines_of_why(anomalies):
    result = anomalies("--explain", "P4", "--isolation", "repeatable read")
    out = " ".join(result.stdout.split())
    assert result.exit_code == 0
    assert "P4 / read-modify-write at repeatable read: prevented (blocking, 40001)" in out
    assert (
        "6 T2 UPDATE test SET value = %s WHERE id = 1 -- params (11,) ERROR 40001: could not serialize "
        "access due to concurrent update blocked on T1; released by step 7 (T1 COMMIT)" in out
    )
    assert "8 T2 COMMIT ROLLBACK" in out
    assert (
        "Lost update was prevented at repeatable read (blocking, 40001): 1 increment(s) committed (T1); "
        "final x = 11: no increment was lost."
    ) in out
    assert "Repeatable read reads one snapshot for the whole transaction" in out


def test_json_prints_the_document_with_per_cell_evidence_and_saves_the_same(anomalies, tmp_path):
    result = anomalies("--only", "G0", "--isolation", "rc,ser", "--json")
    document = json.loads(result.stdout)
    assert result.exit_code == 0
    assert set(document) == {"concord_version", "started_at", "seconds", "step_timeout", "database", "cells"}
    assert set(document["database"]) == {"server_version", "url", "schema"}
    assert [(c["anomaly"], c["variant"], c["isolation"], c["verdict"]) for c in document["cells"]] == [
        ("G0", "write cycle", "read committed", "prevented"),
        ("G0", "write cycle", "serializable", "prevented"),
    ]
    assert all(set(c) == CELL_KEYS and c["evidence"] for c in document["cells"])
    [path] = results_files(tmp_path)
    assert json.loads(path.read_text()) == document


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("--only", "P4,P5"),
            "concord: unknown anomaly 'P5': choose from G0, G1a, G1b, G1c, OTV, PMP, P4, G-single, "
            "G2-item, G2 (or id/variant)",
        ),
        (
            ("--isolation", "read stable"),
            "concord: unknown isolation level 'read stable': choose one of read uncommitted, "
            "read committed, repeatable read, serializable",
        ),
        (
            ("--explain", "write skew"),
            "concord: unknown anomaly 'write skew': choose from G0, G1a, G1b, G1c, OTV, "
            "PMP, P4, G-single, G2-item, G2 (or id/variant)",
        ),
        (("--explain", "P4", "--only", "P4"), "concord: give --explain or --only, not both"),
    ],
)
def test_bad_names_are_one_line_usage_errors_that_run_nothing(anomalies, tmp_path, args, message):
    result = anomalies(*args)
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", message + "\n")
    assert results_files(tmp_path) == []
