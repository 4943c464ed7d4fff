"""The run plan: an experiment validated once, its names resolved into the objects that run."""

from __future__ import annotations

import pytest

from concord.errors import InvalidInput
from concord.locking import STRATEGIES
from concord.race import Cell, Experiment, plan_run
from concord.race.scenarios.counter.scenario import Counter


def test_a_plan_resolves_each_strategy_once_in_order_and_keeps_the_normalised_names():
    plan = plan_run(
        Experiment(strategies=("Optimistic", "none", "optimistic"), isolations=("rr", "SERIALIZABLE"))
    )
    assert plan.experiment.strategies == ("optimistic", "none")
    assert [s.name for s in plan.strategies] == ["optimistic", "none"]
    assert plan.experiment.isolations == ("repeatable read", "serializable")
    assert isinstance(plan.scenario, Counter)
    assert plan.experiment.duration_s == 3.0  # neither a duration nor ops: the default duration


def test_each_planned_cell_carries_the_strategy_object_its_name_says():
    plan = plan_run(Experiment(strategies=("none", "optimistic"), workers=(1, 4)))
    cells = plan.cells()
    assert [c.cell for c in cells] == plan.experiment.cells()
    assert [(c.cell.strategy, c.strategy.name) for c in cells] == [
        ("none", "none"),
        ("none", "none"),
        ("optimistic", "optimistic"),
        ("optimistic", "optimistic"),
    ]
    assert [c.strategy.compares_version for c in cells] == [False, False, True, True]
    assert cells[0].strategy is cells[1].strategy  # resolved once, shared by its cells


def test_all_strategies_means_those_the_scenario_accepts_and_a_refused_one_is_invalid():
    plan = plan_run(Experiment(strategies=("all",)))
    assert plan.experiment.strategies == tuple(n for n in STRATEGIES if n != "skip_locked")
    with pytest.raises(InvalidInput, match="skip_locked makes no sense for counter"):
        plan_run(Experiment(strategies=("skip_locked",)))


def test_a_plan_narrowed_to_one_cell_keeps_its_scenario_and_that_cells_strategy():
    scenario = Counter()
    plan = plan_run(Experiment(strategies=("none", "pessimistic"), workers=(2, 8)), scenario)
    one = plan.only(Cell("counter", "pessimistic", "read committed", 8))
    assert one.scenario is scenario
    assert [c.cell for c in one.cells()] == [Cell("counter", "pessimistic", "read committed", 8)]
    assert [s.name for s in one.strategies] == ["pessimistic"]
    assert one.cells()[0].strategy is plan.strategies[1]
    assert (one.experiment.duration_s, one.experiment.seed) == (plan.experiment.duration_s, 0)


def test_validated_is_the_plans_experiment():
    experiment = Experiment(strategies=("NONE",), isolations=("read committed",), ops=10)
    assert experiment.validated() == plan_run(experiment).experiment
