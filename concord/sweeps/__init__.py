"""Sweeps: a scaling study run as one experiment matrix repeated, with the spread per cell.

from concord.sweeps import Sweep, run_sweep, write_sweep
sweep = Sweep(Experiment(scenario="counter", workers=(1, 4, 16)), repeats=3)
result = run_sweep(sweep, database_url=url)
result.document()         # kind "sweep": the race document's shape, each cell a median of its runs
write_sweep(result, ".")  # results/<stamp>-sweep-<scenario>.json, .csv and .md
"""

from __future__ import annotations

from concord.sweeps.aggregate import aggregate_cell, median, spread
from concord.sweeps.runner import Sweep, SweepProgress, SweepResult, run_sweep
from concord.sweeps.writers import write_sweep

__all__ = [
    "Sweep",
    "SweepProgress",
    "SweepResult",
    "aggregate_cell",
    "median",
    "run_sweep",
    "spread",
    "write_sweep",
]
