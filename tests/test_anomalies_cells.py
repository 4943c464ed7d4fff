"""Well-known cells of the matrix, checked against the live server's behaviour.

The whole catalogue runs once per module (a few seconds); each test then reads the cells it is about.
The verdicts come from the checkers; these tests say what PostgreSQL is documented to do.
"""

from __future__ import annotations

import pytest

from concord.anomalies import Cell, Level, SuiteResult, Verdict, run_suite
from concord.anomalies.transcript import Outcome

RU, RC, RR, SER = Level


@pytest.fixture(scope="module")
def matrix(server_url) -> SuiteResult:
    return run_suite(server_url.render_as_string(hide_password=False), step_timeout=10.0)


def cell(matrix: SuiteResult, key: str, level: Level) -> Cell:
    anomaly, _, variant = key.partition("/")
    [found] = [
        c
        for c in matrix.cells
        if c.anomaly == anomaly and (not variant or c.variant == variant) and c.isolation is level
    ]
    return found


def test_lost_update_is_possible_under_read_committed(matrix):
    found = cell(matrix, "P4", RC)
    assert found.verdict is Verdict.POSSIBLE
    assert found.evidence == (
        "2 increment(s) committed (T1, T2); final x = 11, not 12: an increment based on a "
        "stale read overwrote another"
    )


def test_lost_update_is_prevented_under_repeatable_read_by_a_serialization_failure(matrix):
    found = cell(matrix, "P4", RR)
    [failure] = found.transcript.failures()
    assert (found.verdict, found.prevented_by) == (Verdict.PREVENTED, ["blocking", "40001"])
    assert (failure.session, failure.label, failure.sqlstate) == ("T2", "T2 writes x", "40001")


def test_write_skew_is_prevented_under_serializable(matrix):
    found = cell(matrix, "G2-item", SER)
    [failure] = found.transcript.failures()
    assert (found.verdict, found.prevented_by) == (Verdict.PREVENTED, ["40001"])
    assert (failure.session, failure.sqlstate) == ("T2", "40001")


def test_write_skew_is_possible_under_repeatable_read(matrix):
    found = cell(matrix, "G2-item", RR)
    assert found.verdict is Verdict.POSSIBLE
    assert found.transcript.failures() == []


def test_dirty_write_is_prevented_by_blocking_with_the_blocked_step_identified(matrix):
    found = cell(matrix, "G0", RC)
    [waiter] = found.transcript.blocked()
    release = found.transcript.records[waiter.released_by - 1]
    assert (found.verdict, found.prevented_by) == (Verdict.PREVENTED, ["blocking"])
    assert (waiter.index, waiter.session, waiter.sql) == (4, "T2", "UPDATE test SET value = 12 WHERE id = 1")
    assert (waiter.blocked_by, waiter.outcome) == (["T1"], Outcome.OK)
    assert (release.index, release.session, release.sql) == (6, "T1", "COMMIT")


def test_read_uncommitted_behaves_exactly_as_read_committed(matrix):
    by_level = {(c.anomaly, c.variant, c.isolation): c.verdict for c in matrix.cells}
    pairs = [(by_level[(a, v, RU)], by_level[(a, v, RC)]) for (a, v, level) in by_level if level is RU]
    assert len(pairs) == 14
    assert all(ru == rc for ru, rc in pairs)


def test_the_whole_matrix_matches_postgresqls_documented_guarantees(matrix):
    verdicts = {}
    for c in matrix.cells:
        verdicts.setdefault(c.anomaly, {}).setdefault(c.isolation, set()).add(c.verdict.value)
    row = {
        anomaly: tuple("/".join(sorted(verdicts[anomaly][level])) for level in Level) for anomaly in verdicts
    }
    prevented, possible = "prevented", "possible"
    assert row == {
        "G0": (prevented, prevented, prevented, prevented),
        "G1a": (prevented, prevented, prevented, prevented),
        "G1b": (prevented, prevented, prevented, prevented),
        "G1c": (prevented, prevented, prevented, prevented),
        "OTV": (prevented, prevented, prevented, prevented),
        "PMP": (possible, possible, prevented, prevented),
        "P4": (possible, possible, prevented, prevented),
        "G-single": (possible, possible, prevented, prevented),
        "G2-item": (possible, possible, possible, prevented),
        "G2": (possible, possible, possible, prevented),
    }
