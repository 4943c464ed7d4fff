"""The pure parts of `concord.anomalies`: checkers over hand-made transcripts, verdicts, names.

No server here: each transcript is what a run could have recorded, written out by hand.
"""

from __future__ import annotations

import pytest

from concord.anomalies import CATALOGUE, Level, Verdict, select
from concord.anomalies.catalogue import dirty, single_antidependency, skew, vanishing
from concord.anomalies.runner import CellRun
from concord.anomalies.script import Inconclusive
from concord.anomalies.transcript import Outcome, StepRecord, Transcript
from concord.anomalies.verdict import decide
from concord.errors import InvalidInput


def read(session: str, label: str, rows: list[list[int]], columns=("id", "value")) -> StepRecord:
    return StepRecord(
        0,
        session,
        "SELECT ...",
        label,
        outcome=Outcome.OK,
        command=f"SELECT {len(rows)}",
        columns=list(columns),
        rows=rows,
    )


def value(session: str, label: str, found: int) -> StepRecord:
    return read(session, label, [[found]], columns=("value",))


def ok(session: str, sql: str, command: str, label: str | None = None, rows=None) -> StepRecord:
    return StepRecord(0, session, sql, label, outcome=Outcome.OK, command=command, rows=rows)


def commit(session: str, command: str = "COMMIT") -> StepRecord:
    return ok(session, "COMMIT", command)


def failed(session: str, sql: str, sqlstate: str = "40001", label: str | None = None) -> StepRecord:
    return StepRecord(
        0,
        session,
        sql,
        label,
        outcome=Outcome.FAILED,
        sqlstate=sqlstate,
        error="could not serialize access due to concurrent update",
    )


def transcript(*records: StepRecord) -> Transcript:
    for index, record in enumerate(records, start=1):
        record.index = index
    return Transcript(list(records))


# G0, G1a, G1b, G1c


def test_write_cycle_is_observed_when_each_transaction_wins_one_row():
    finding = dirty.check_write_cycle(transcript(read("T3", "final", [[1, 12], [2, 21]])))
    assert finding.observed is True
    assert finding.detail.startswith("final x = 12 (T2), y = 21 (T1)")


def test_write_cycle_is_not_observed_when_one_transaction_wins_both_rows():
    assert dirty.check_write_cycle(transcript(read("T3", "final", [[1, 12], [2, 22]]))).observed is False


def test_write_cycle_without_a_final_read_is_inconclusive():
    with pytest.raises(Inconclusive):
        dirty.check_write_cycle(transcript(failed("T3", "SELECT ...", "57014", label="final")))


def test_aborted_read_is_observed_when_t2_reads_the_rolled_back_value():
    t = transcript(
        read("T2", "T2 reads during T1", [[1, 101], [2, 20]]),
        read("T2", "T2 reads after T1 rolled back", [[1, 10], [2, 20]]),
    )
    assert dirty.check_aborted_read(t).observed is True


def test_aborted_read_is_not_observed_when_t2_only_reads_committed_values():
    t = transcript(
        read("T2", "T2 reads during T1", [[1, 10], [2, 20]]),
        read("T2", "T2 reads after T1 rolled back", [[1, 10], [2, 20]]),
    )
    assert dirty.check_aborted_read(t).observed is False


def test_intermediate_read_is_observed_when_t2_reads_the_overwritten_value():
    t = transcript(
        read("T2", "T2 reads during T1", [[1, 101], [2, 20]]),
        read("T2", "T2 reads after T1 committed", [[1, 11], [2, 20]]),
    )
    assert dirty.check_intermediate_read(t).observed is True


def test_circular_flow_needs_both_transactions_to_see_each_other():
    both = transcript(value("T1", "T1 reads y", 22), value("T2", "T2 reads x", 11))
    one_way = transcript(value("T1", "T1 reads y", 22), value("T2", "T2 reads x", 10))
    assert (dirty.check_circular_flow(both).observed, dirty.check_circular_flow(one_way).observed) == (
        True,
        False,
    )


# OTV, PMP


def test_observed_transaction_vanishes_when_t3_goes_back_from_t2_to_t1():
    t = transcript(value("T3", "T3 reads x", 12), value("T3", "T3 reads y", 19))
    finding = vanishing.check_vanishing(t)
    assert finding.observed is True
    assert "after seeing T2, T3 saw the T1 value" in finding.detail


def test_observed_transaction_does_not_vanish_when_t3_only_moves_forward():
    t = transcript(
        value("T3", "T3 reads x", 11),
        value("T3", "T3 reads y", 19),
        value("T3", "T3 reads y again", 18),
        value("T3", "T3 reads x again", 12),
    )
    assert vanishing.check_vanishing(t).observed is False


def test_predicate_many_preceders_is_observed_when_a_row_appears_between_predicate_reads():
    t = transcript(read("T1", "T1 reads value = 30", []), read("T1", "T1 reads value % 3 = 0", [[3, 30]]))
    assert vanishing.check_predicate_reads(t).observed is True


def test_predicate_many_preceders_is_not_observed_when_both_reads_see_no_row():
    t = transcript(read("T1", "T1 reads value = 30", []), read("T1", "T1 reads value % 3 = 0", []))
    assert vanishing.check_predicate_reads(t).observed is False


def test_predicate_write_is_observed_when_the_delete_misses_the_row_t2_read():
    t = transcript(
        read("T2", "T2 reads before deleting", [[1, 10], [2, 20]]),
        ok("T2", "DELETE ...", "DELETE 0", "T2 deletes value = 20", rows=[]),
        read("T2", "T2 reads after deleting", [[1, 20], [2, 30]]),
    )
    assert vanishing.check_predicate_write(t).observed is True


def test_predicate_write_is_not_observed_when_the_delete_fails():
    t = transcript(
        read("T2", "T2 reads before deleting", [[1, 10], [2, 20]]),
        failed("T2", "DELETE ...", label="T2 deletes value = 20"),
    )
    assert vanishing.check_predicate_write(t).observed is False


# P4, G-single


def _increments(final: int, *, t2_commit: str = "COMMIT") -> Transcript:
    return transcript(
        ok("T1", "UPDATE ...", "UPDATE 1", "T1 writes x"),
        ok("T2", "UPDATE ...", "UPDATE 1", "T2 writes x"),
        commit("T1"),
        commit("T2", t2_commit),
        value("T3", "final", final),
    )


def test_lost_update_is_observed_when_two_committed_increments_leave_one():
    finding = single_antidependency.check_lost_update(_increments(11))
    assert (finding.observed, finding.detail) == (
        True,
        "2 increment(s) committed (T1, T2); final x = 11, not 12: an increment based on a stale read "
        "overwrote another",
    )


def test_lost_update_is_not_observed_when_both_increments_show():
    assert single_antidependency.check_lost_update(_increments(12)).observed is False


def test_lost_update_counts_only_increments_whose_commit_was_accepted():
    # A COMMIT sent to a failed transaction answers ROLLBACK: that increment never happened.
    assert single_antidependency.check_lost_update(_increments(11, t2_commit="ROLLBACK")).observed is False


def test_read_skew_is_observed_when_t1_sees_a_sum_that_never_existed():
    t = transcript(value("T1", "T1 reads x", 10), value("T1", "T1 reads y", 18))
    assert single_antidependency.check_item_skew(t).observed is True


def test_read_skew_is_not_observed_when_t1_sees_one_state():
    t = transcript(value("T1", "T1 reads x", 10), value("T1", "T1 reads y", 20))
    assert single_antidependency.check_item_skew(t).observed is False


def test_predicate_read_skew_is_observed_when_one_row_shows_two_values():
    t = transcript(
        read("T1", "T1 reads value % 5 = 0", [[1, 10], [2, 20]]),
        read("T1", "T1 reads value % 3 = 0", [[1, 12]]),
    )
    assert single_antidependency.check_predicate_skew(t).observed is True


def test_predicate_read_skew_is_not_observed_when_the_second_read_fits_the_first_state():
    t = transcript(
        read("T1", "T1 reads value % 5 = 0", [[1, 10], [2, 20]]), read("T1", "T1 reads value % 3 = 0", [])
    )
    assert single_antidependency.check_predicate_skew(t).observed is False


def test_write_predicate_skew_is_observed_when_the_delete_acts_on_the_later_state():
    t = transcript(
        value("T1", "T1 reads x", 10), ok("T1", "DELETE ...", "DELETE 0", "T1 deletes value = 20", [])
    )
    assert single_antidependency.check_write_predicate_skew(t).observed is True


def test_write_predicate_skew_is_not_observed_when_the_delete_finds_y():
    t = transcript(
        value("T1", "T1 reads x", 10), ok("T1", "DELETE ...", "DELETE 1", "T1 deletes value = 20", [[2]])
    )
    assert single_antidependency.check_write_predicate_skew(t).observed is False


# G2-item, G2


def test_write_skew_is_observed_when_both_commit_on_stale_reads():
    t = transcript(
        read("T1", "T1 reads x and y", [[1, 10], [2, 20]]),
        read("T2", "T2 reads x and y", [[1, 10], [2, 20]]),
        commit("T1"),
        commit("T2"),
    )
    assert skew.check_write_skew(t).observed is True


def test_write_skew_is_not_observed_when_the_second_commit_fails():
    t = transcript(
        read("T1", "T1 reads x and y", [[1, 10], [2, 20]]),
        read("T2", "T2 reads x and y", [[1, 10], [2, 20]]),
        commit("T1"),
        failed("T2", "COMMIT"),
    )
    finding = skew.check_write_skew(t)
    assert (finding.observed, finding.detail) == (False, "only T1 of T1, T2 committed: no cycle can form")


def test_predicate_anti_dependency_cycle_is_observed_when_both_inserts_commit_unseen():
    t = transcript(
        read("T1", "T1 reads value % 3 = 0", []),
        read("T2", "T2 reads value % 3 = 0", []),
        commit("T1"),
        commit("T2"),
    )
    assert skew.check_predicate_skew(t).observed is True


def test_read_only_anomaly_is_observed_when_t3_sees_the_deposit_without_the_withdrawal():
    t = transcript(
        read("T2", "T2 reads x and y", [[1, 0], [2, 0]]),
        commit("T1"),
        read("T3", "T3 reads x and y", [[1, 0], [2, 20]]),
        commit("T3"),
        ok("T2", "UPDATE ...", "UPDATE 1", "T2 withdrawal", [[-11]]),
        commit("T2"),
    )
    assert skew.check_read_only_skew(t).observed is True


def test_read_only_anomaly_is_not_observed_when_the_withdrawal_fails():
    t = transcript(
        read("T2", "T2 reads x and y", [[1, 0], [2, 0]]),
        commit("T1"),
        read("T3", "T3 reads x and y", [[1, 0], [2, 20]]),
        commit("T3"),
        failed("T2", "UPDATE ...", label="T2 withdrawal"),
        commit("T2", "ROLLBACK"),
    )
    assert skew.check_read_only_skew(t).observed is False


# verdicts


def _run(t: Transcript, test=single_antidependency.P4, error: str | None = None) -> CellRun:
    return CellRun(test, Level.REPEATABLE_READ, t, error, 0.01)


def test_an_observed_anomaly_is_possible():
    cell = decide(_run(_increments(11)))
    assert (cell.verdict, cell.prevented_by) == (Verdict.POSSIBLE, [])


def test_a_prevented_anomaly_names_the_blocking_and_the_serialization_failure():
    blocked_write = failed("T2", "UPDATE ...", label="T2 writes x")
    blocked_write.blocked, blocked_write.blocked_by, blocked_write.released_by = True, ["T1"], 3
    t = transcript(
        ok("T1", "UPDATE ...", "UPDATE 1", "T1 writes x"),
        blocked_write,
        commit("T1"),
        commit("T2", "ROLLBACK"),
        value("T3", "final", 11),
    )
    cell = decide(_run(t))
    assert (cell.verdict, cell.prevented_by) == (Verdict.PREVENTED, ["blocking", "40001"])
    assert "step 2 (T2) blocked on T1 until step 3 (T1: COMMIT)" in cell.evidence


def test_a_prevented_anomaly_without_blocking_or_errors_is_kept_out_by_consistent_reads():
    t = transcript(value("T1", "T1 reads x", 10), value("T1", "T1 reads y", 20))
    cell = decide(_run(t, single_antidependency.G_SINGLE_ITEM))
    assert (cell.verdict, cell.prevented_by) == (Verdict.PREVENTED, ["consistent reads"])


def test_an_unexpected_sqlstate_makes_the_cell_an_error_not_a_verdict():
    t = transcript(failed("T1", "SELECT value FROM tset", "42P01"))
    cell = decide(_run(t, single_antidependency.G_SINGLE_ITEM))
    assert cell.verdict is Verdict.ERROR
    assert cell.evidence.startswith(
        "unexpected failure: step 1 (T1: SELECT value FROM tset) failed with 42P01"
    )


def test_a_run_that_broke_off_is_an_error_with_its_reason():
    cell = decide(
        _run(Transcript(), error="step 4 (T2: UPDATE ...) still waited on a lock held by T1 after 1s")
    )
    assert (cell.verdict, cell.evidence) == (
        Verdict.ERROR,
        "step 4 (T2: UPDATE ...) still waited on a lock held by T1 after 1s",
    )


def test_a_checker_missing_its_evidence_makes_the_cell_an_error():
    cell = decide(_run(Transcript(), dirty.G0))
    assert (cell.verdict, cell.evidence) == (
        Verdict.ERROR,
        "inconclusive: the final read of x and y did not return",
    )


# names


@pytest.mark.parametrize(
    ("name", "level"),
    [
        ("read uncommitted", Level.READ_UNCOMMITTED),
        ("RU", Level.READ_UNCOMMITTED),
        ("Read-Committed", Level.READ_COMMITTED),
        ("rr", Level.REPEATABLE_READ),
        ("SERIALIZABLE", Level.SERIALIZABLE),
    ],
)
def test_isolation_names_are_parsed_loosely(name, level):
    assert Level.parse(name) is level


def test_an_unknown_isolation_name_is_invalid_input():
    with pytest.raises(InvalidInput, match="unknown isolation level 'snapshot isolation'"):
        Level.parse("snapshot isolation")


def test_an_anomaly_id_selects_every_variant_in_catalogue_order():
    assert [test.key for test in select(["g-single", "P4"])] == [
        "P4/read-modify-write",
        "G-single/item read",
        "G-single/predicate read",
        "G-single/write predicate",
    ]


def test_an_id_with_a_variant_selects_one_form():
    assert [test.key for test in select(["G2/Read-Only-Transaction"])] == ["G2/read-only transaction"]


def test_an_unknown_anomaly_is_invalid_input_listing_the_ids():
    with pytest.raises(
        InvalidInput, match=r"unknown anomaly 'P5': choose from G0, G1a, G1b, G1c, OTV, PMP, P4"
    ):
        select(["P5"])


def test_the_catalogue_covers_the_ten_anomalies_of_the_reference_list():
    assert list(dict.fromkeys(test.anomaly for test in CATALOGUE)) == [
        "G0",
        "G1a",
        "G1b",
        "G1c",
        "OTV",
        "PMP",
        "P4",
        "G-single",
        "G2-item",
        "G2",
    ]
