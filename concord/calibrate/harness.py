"""concord's own side of a round: one race cell of the counter on calibrate's row."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import sqlalchemy as sa

from concord.errors import ConcordError
from concord.models import Task
from concord.nouns import count
from concord.race.scenarios.counter.scenario import POINTS_BEFORE, Counter
from concord.race.scenarios.program import Fixture

if TYPE_CHECKING:
    from concord.race.results import CellResult


def run_concord(
    url: str, workers: int, executor: str, duration_s: float, fixture: Fixture | None = None
) -> float:
    """One run of concord's own harness on the same transaction; its commits per second.

    With ``fixture`` (calibrate's own counter row) concord increments the very row pgbench and the
    floor increment; without it, a counter row of its own.
    """
    return concord_cell(url, workers, executor, duration_s, fixture).throughput


def concord_cell(
    url: str, workers: int, executor: str, duration_s: float, fixture: Fixture | None = None
) -> CellResult:
    """The cell of `run_concord`, whole; `ConcordError` when it lost a worker or committed nothing."""
    from concord.race import Experiment, run_experiment

    experiment = Experiment(
        scenario="counter",
        strategies=("pessimistic",),
        workers=(workers,),
        executor=executor,
        duration_s=duration_s,
        # pgbench samples nothing: neither does concord's side of the comparison
        waits=False,
    )
    scenario = None if fixture is None else CounterOnRow(fixture)
    result = run_experiment(experiment, database_url=url, scenario=scenario)
    if result.interrupted:
        raise KeyboardInterrupt
    [cell] = result.cells
    if cell.violations or cell.worker_errors or cell.dead_workers or not cell.commits:
        problems = [*cell.worker_errors, *(d["reason"] for d in cell.dead_workers)]
        raise ConcordError(
            f"concord's run went wrong ({executor}, {count(workers, 'worker')}): {cell.finding}"
            + (f"; {problems[0]}" if problems else "")
        )
    return cell


class CounterOnRow(Counter):
    """The counter scenario on an existing row (calibrate's), shared with pgbench and the floor.

    Its setup reads where the counter stands, so the check counts this cell's increments from
    there; its teardown leaves the row, which calibrate deletes at the end.
    """

    def __init__(self, fixture: Fixture) -> None:
        self.fixture = fixture

    def setup(self, conn: sa.Connection, workers: int, ops: int | None) -> Fixture:
        task = Task.__table__
        points = conn.execute(sa.select(task.c.points).where(task.c.id == self.fixture.tasks[0])).scalar_one()
        return replace(self.fixture, workers=workers, extra={**self.fixture.extra, POINTS_BEFORE: points})

    def teardown(self, conn: sa.Connection, fixture: Fixture) -> None:
        pass
