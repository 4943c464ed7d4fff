"""The race engine: many workers against the board, per locking strategy and isolation level.

from concord.race import Experiment, run_experiment, load_experiment
result = run_experiment(load_experiment("experiments/lost-update.toml"))
result.document()          # the JSON document `concord race --json` prints
write_results(result, ".")  # results/<stamp>-<scenario>.json/.csv/.md and logs/<...>.jsonl

Importing the package loads nothing (lazy_loader): worker processes import `concord.race.worker`
and the scenarios' programs (`concord.race.scenarios.<name>.program`), and must not pay for the
engine, the scenarios' SQLAlchemy statements or the result writers.
"""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "capacity": ["TooManyWorkers"],
        "cell": ["Progress"],
        "engine": ["run_experiment"],
        "experiment": ["Cell", "Experiment", "load_experiment"],
        "plan": ["PlannedCell", "RunPlan", "plan_run"],
        "results": ["CellResult", "RaceResult"],
        "scenarios": ["SCENARIOS", "get_scenario"],
        "writers": ["write_results"],
    },
)
