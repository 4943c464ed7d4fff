"""A cell's accounts: its worker reports summed once (`CellTotals`), and the traces it carries."""

from __future__ import annotations

import json

from concord.race.job import WorkerReport
from concord.race.latency import Latencies
from concord.race.results import CONFLICT_KEYS, CellResult, CellTotals, RaceResult
from concord.race.writers import write_traces


def report(worker: int, **counts) -> WorkerReport:
    latency = Latencies()
    for _ in range(counts.get("done", 0)):
        latency.record(0.001)
    return WorkerReport(worker=worker, latency=latency, **counts)


def test_reports_are_summed_with_each_payload_named_by_its_worker():
    reports = [
        report(0, attempts=5, done=3, retries=2, conflicts={"deadlock": 2}, payloads=[10, 11, 12]),
        report(1, attempts=4, done=1, declined=2, conflicts={"whatever": 1}, payloads=[20], exhausted=True),
        report(2, attempts=1, failures=1, error="ScenarioFailed: boom"),
    ]
    totals = CellTotals.of(reports, dead_workers=frozenset({3}))
    assert (totals.attempts, totals.commits, totals.retries, totals.failures) == (10, 6, 2, 1)
    assert (totals.done, totals.declined, totals.exhausted_workers) == (4, 2, 1)
    assert totals.payloads == [(0, 10), (0, 11), (0, 12), (1, 20)]
    assert list(totals.conflicts) == [*CONFLICT_KEYS, "whatever"]
    assert (totals.conflicts["deadlock"], totals.conflicts["whatever"]) == (2, 1)
    assert totals.latency.count == 4
    assert totals.dead_workers == frozenset({3})
    assert totals.worker_errors == ("ScenarioFailed: boom",)


def test_a_cells_trace_entry_counts_the_lines_kept_and_dropped():
    reports = [report(0, traces=[(0, 0, 1, 0.0, 0.0, "committed", None)], traces_dropped=3), report(1)]
    totals = CellTotals.of(reports)
    assert totals.trace(cap_per_worker=1) == {"lines": 1, "dropped": 3, "cap_per_worker": 1}


def a_cell(strategy: str, traces: list[tuple]) -> CellResult:
    return CellResult(
        scenario="counter", strategy=strategy, isolation="read committed", executor="threads",
        workers=2, duration_s=1.0, attempts=len(traces), commits=len(traces), retries=0, failures=0,
        conflicts={}, violations=0, invariant="", throughput=1.0, latency_ms={}, verdict="",
        finding="", operations={}, traces=traces,
    )  # fmt: skip


def test_each_cell_carries_its_own_traces_to_the_traces_file_but_not_into_the_document(tmp_path):
    first = [(0, 0, 1, 1.0, 2.0, "committed", None), (1, 0, 1, 1.5, 2.5, "serialization_failure", "40001")]
    second = [(1, 3, 2, 3.0, 4.0, "committed", None)]
    result = RaceResult("test", "", {}, {}, cells=[a_cell("none", first), a_cell("optimistic", second)])
    assert [sorted(cell) for cell in result.document()["cells"]] == [
        sorted(k for k in cell.__dict__ if k not in ("traces", "error")) for cell in result.cells
    ]
    path = tmp_path / "traces.jsonl"
    write_traces(path, result)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [
        (line["cell"], line["strategy"], line["worker"], line["op"], line["sqlstate"]) for line in lines
    ] == [
        (0, "none", 0, 0, None),
        (0, "none", 1, 0, "40001"),
        (1, "optimistic", 1, 3, None),
    ]
