"""The race engine: many workers against the board, per locking strategy and isolation level.

from concord.race import Experiment, run_experiment, load_experiment
result = run_experiment(load_experiment("experiments/lost-update.toml"))
result.document()          # the JSON document `concord race --json` prints
write_results(result, ".")  # results/<stamp>-<scenario>.json/.csv/.md and logs/<...>.jsonl
"""

from __future__ import annotations

from concord.race.capacity import TooManyWorkers
from concord.race.cell import Progress
from concord.race.engine import run_experiment
from concord.race.experiment import Cell, Experiment, load_experiment
from concord.race.results import CellResult, RaceResult
from concord.race.scenarios import SCENARIOS, get_scenario
from concord.race.writers import write_results

__all__ = [
    "SCENARIOS",
    "Cell",
    "CellResult",
    "Experiment",
    "Progress",
    "RaceResult",
    "TooManyWorkers",
    "get_scenario",
    "load_experiment",
    "run_experiment",
    "write_results",
]
