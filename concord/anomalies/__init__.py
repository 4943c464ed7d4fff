"""Isolation anomaly proofs: scripted interleavings of real sessions, judged from what they saw.

Public API:

- `run_suite()` runs the catalogue (or a selection) at each isolation level and returns a
  `SuiteResult` whose `cells` carry a `Verdict`, the evidence, and the transcript.
- `CATALOGUE` lists the tests (`AnomalyTest`), `select()` picks them by name, `Level` names the
  four levels of the matrix.
- `suite_document()` and `write_results()` turn a result into the JSON document saved under
  ``results/``; `explain()` gives the two-line explanation of one cell.
"""

from concord.anomalies.catalogue import CATALOGUE, anomaly_ids, select
from concord.anomalies.levels import Level
from concord.anomalies.report import explain, suite_document, write_results
from concord.anomalies.script import AnomalyTest
from concord.anomalies.suite import DEFAULT_STEP_TIMEOUT_S, SuiteResult, planned_cells, run_suite
from concord.anomalies.verdict import Cell, Verdict

__all__ = [
    "CATALOGUE",
    "DEFAULT_STEP_TIMEOUT_S",
    "AnomalyTest",
    "Cell",
    "Level",
    "SuiteResult",
    "Verdict",
    "anomaly_ids",
    "explain",
    "planned_cells",
    "run_suite",
    "select",
    "suite_document",
    "write_results",
]
