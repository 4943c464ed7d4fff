"""The run plan: an experiment validated once and its names resolved into objects once.

An `Experiment` names things (a scenario, strategies, isolation levels); `plan_run` checks every
value a user could mistype, turns the names into the objects that run (the scenario, the locking
strategies) and keeps the normalised experiment beside them, which is what the results record.
The engine iterates the plan's cells and never looks a name up again; a sweep narrows one plan to
each of its cells (`RunPlan.only`) instead of planning every run afresh.

    plan = plan_run(Experiment(scenario="counter", strategies=("none", "pessimistic")))
    [(c.cell.strategy, c.strategy.compares_version) for c in plan.cells()]
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from concord.errors import InvalidInput
from concord.locking import STRATEGIES, LockingStrategy, get_strategy
from concord.race.executors import EXECUTORS
from concord.race.experiment import DEFAULT_DURATION_S, Cell, Experiment, expand_isolations, parse_timeout
from concord.race.scenarios import Scenario


@dataclass(frozen=True)
class PlannedCell:
    """One cell of the matrix: its names (as the results record them) and its strategy object."""

    cell: Cell
    strategy: LockingStrategy


@dataclass(frozen=True)
class RunPlan:
    """What a run races: the experiment as validated, its scenario and its strategies."""

    experiment: Experiment  # names normalised, defaults filled: the run's parameters
    scenario: Scenario
    strategies: tuple[LockingStrategy, ...]  # in the order of ``experiment.strategies``

    def cells(self) -> list[PlannedCell]:
        """The matrix in the experiment's order (strategy-major), each cell with its strategy."""
        by_name = {strategy.name: strategy for strategy in self.strategies}
        return [PlannedCell(cell, by_name[cell.strategy]) for cell in self.experiment.cells()]

    def only(self, cell: Cell) -> RunPlan:
        """This plan narrowed to one of its cells (a sweep runs its cells one at a time)."""
        experiment = replace(
            self.experiment,
            strategies=(cell.strategy,),
            isolations=(cell.isolation,),
            workers=(cell.workers,),
        )
        strategies = tuple(s for s in self.strategies if s.name == cell.strategy)
        return replace(self, experiment=experiment, strategies=strategies)


def plan_run(experiment: Experiment, scenario: Scenario | None = None) -> RunPlan:
    """Validate ``experiment`` and resolve its names; `InvalidInput` for anything malformed.

    ``scenario``, when given, is the object the cells run instead of the one the experiment names
    (calibrate races the counter on a row it shares with pgbench; ``--history`` records one).
    """
    scenario = scenario or experiment.resolve_scenario()
    executor = experiment.executor.strip().lower()
    if executor not in EXECUTORS:
        raise InvalidInput(f"unknown executor {experiment.executor!r}: choose one of {', '.join(EXECUTORS)}")
    refusal = scenario.executor_refusal(executor)
    if refusal:
        raise InvalidInput(refusal)
    _check_bounds(experiment)
    strategies = resolve_strategies(experiment.strategies or scenario.default_strategies, scenario)
    validated = replace(
        experiment,
        scenario=scenario.name,
        scenario_source=scenario.source,
        strategies=tuple(strategy.name for strategy in strategies),
        isolations=expand_isolations(experiment.isolations or scenario.default_isolations),
        executor=executor,
        lock_timeout=parse_timeout("lock_timeout", experiment.lock_timeout),
        statement_timeout=parse_timeout("statement_timeout", experiment.statement_timeout),
        duration_s=experiment.duration_s
        if experiment.duration_s is not None or experiment.ops is not None
        else DEFAULT_DURATION_S,
    )
    return RunPlan(validated, scenario, strategies)


def _check_bounds(experiment: Experiment) -> None:
    for count in experiment.workers:
        if not isinstance(count, int) or count < 1:
            raise InvalidInput(f"workers must be at least 1, not {count!r}")
    if not experiment.workers:
        raise InvalidInput("workers: give at least one worker count")
    duration_s, ops = experiment.duration_s, experiment.ops
    if duration_s is not None and ops is not None:
        raise InvalidInput("give either a duration or a number of operations, not both")
    if duration_s is not None and not duration_s > 0:
        raise InvalidInput(f"duration must be positive, not {duration_s!r}")
    if ops is not None and ops < 1:
        raise InvalidInput(f"ops must be at least 1, not {ops!r}")
    if experiment.max_tries < 1:
        raise InvalidInput(f"max tries must be at least 1, not {experiment.max_tries!r}")


def resolve_strategies(names: tuple[str, ...] | list[str], scenario: Scenario) -> tuple[LockingStrategy, ...]:
    """The strategies ``names`` name, each once, in order; 'all' means every strategy the
    scenario accepts. `InvalidInput` for an unknown name or one the scenario refuses."""
    if [n.strip().lower() for n in names] == ["all"]:
        every = [get_strategy(name) for name in STRATEGIES]
        return tuple(strategy for strategy in every if scenario.refusal(strategy) is None)
    out: dict[str, LockingStrategy] = {}
    for name in names:
        strategy = get_strategy(name)
        refusal = scenario.refusal(strategy)
        if refusal:
            raise InvalidInput(refusal)
        out.setdefault(strategy.name, strategy)
    return tuple(out.values())
