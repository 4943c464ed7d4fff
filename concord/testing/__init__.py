"""Race a scenario from a test: ``concord.testing.race`` runs one cell and says whether the
invariant held.

    from concord.testing import race
    from myapp.scenarios import bank

    def test_transfers_conserve_money(concord_database):
        outcome = race(bank, strategy="pessimistic", workers=8, ops=400, database_url=concord_database)
        assert outcome.holds, outcome.explanation

``concord_database`` is the pytest plugin's fixture (`concord.testing.plugin`, registered as a
``pytest11`` entry point): a fresh empty database per test. This module is stable public API.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

from concord.errors import ConcordError

__all__ = ["RaceError", "RaceOutcome", "race"]


class RaceError(ConcordError):
    """The cell did not run to a verdict: the scenario's code raised, or its setup refused the
    cell. The message says what and where."""


@dataclass(frozen=True)
class RaceOutcome:
    """One cell's verdict, as a test asserts it."""

    holds: bool  # the invariant held: no violation found by the scenario's check
    violations: int
    conflicts: dict[str, int]  # by kind: serialization_failure, deadlock, lock_not_available, ...
    commits: int
    explanation: str  # the plain-language verdict, as `concord race` prints it
    findings: list[str] = field(default_factory=list)  # the check's sentences (the first 20)
    cell: Any = field(default=None, repr=False)  # the whole `concord.race.CellResult`


def race(
    scenario: Any,
    *,
    strategy: str = "none",
    isolation: str = "read committed",
    workers: int = 8,
    duration: float | None = None,
    ops: int | None = None,
    database_url: str | None = None,
    executor: str = "threads",
    max_tries: int = 10,
    seed: int = 0,
) -> RaceOutcome:
    """Run one cell of ``scenario`` and return its verdict.

    ``scenario`` is a scenario object (see `concord.race.scenarios.user`) or what ``concord race
    --scenario`` accepts (``path/file.py:NAME``, ``package.module:NAME``, an installed or built-in
    name). ``duration`` (seconds) or ``ops`` (operations in total) bounds the cell; neither means
    1 second. Without ``database_url`` the cell runs in a fresh database on the embedded server
    (or ``CONCORD_TEST_DATABASE_URL``'s), dropped afterwards. Raises `RaceError` when the cell
    failed and `concord.errors.InvalidInput` for a bad argument or a scenario that breaks the
    contract.
    """
    from concord.race import Experiment, run_experiment
    from concord.testing.databases import fresh_database

    found = _scenario(scenario)
    experiment = Experiment(
        scenario=found.name,
        scenario_source=found.source,
        strategies=(strategy,),
        isolations=(isolation,),
        workers=(workers,),
        executor=executor,
        duration_s=duration if duration is not None or ops is not None else 1.0,
        ops=ops,
        max_tries=max_tries,
        seed=seed,
    )
    place = nullcontext(database_url) if database_url else fresh_database()
    with place as url:
        result = run_experiment(experiment, database_url=url, scenario=found)
    if result.error:
        raise RaceError(result.error)
    [cell] = result.cells
    if cell.error or cell.violations is None:
        raise RaceError(cell.error or cell.verdict)
    return RaceOutcome(
        holds=cell.violations == 0,
        violations=cell.violations,
        conflicts=dict(cell.conflicts),
        commits=cell.commits,
        explanation=cell.verdict,
        findings=list(cell.details.get("violations", [])),
        cell=cell,
    )


def _scenario(scenario: Any):
    from concord.race.scenarios import Scenario, get_scenario
    from concord.race.scenarios.user.scenario import UserScenario, target_of

    if isinstance(scenario, (str, Scenario)):
        return get_scenario(scenario)
    return UserScenario(scenario, None, target_of(scenario))
