"""Run a sweep: every cell of the matrix, ``repeats`` times, one cell at a time.

Repeats are interleaved in rounds: round 1 runs every cell once, then round 2, and so on, and
every other round runs the cells in reverse order. Drift over a long sweep (a warming cache, a
growing table, a noisy neighbour on a shared machine) then falls on every cell alike instead of
on whichever cells happened to run last, and the medians are not skewed by it.

Each run is `run_experiment` on the sweep's plan narrowed to one cell (`RunPlan.only`: planned
once, not once per run), so a sweep measures exactly what `concord race` measures. Ctrl-C (or a
server that goes away) ends the sweep with the runs completed so far; a run cut short is left out
of the medians.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import psycopg

from concord.errors import InvalidInput, translate
from concord.race import Cell, CellResult, Experiment, Progress, RunPlan, plan_run, run_experiment
from concord.race.capacity import ensure_capacity
from concord.sweeps.aggregate import aggregate_cell

DEFAULT_REPEATS = 3
DEFAULT_WORKERS = (1, 2, 4, 8, 16, 32, 50)


@dataclass(frozen=True)
class Sweep:
    """An experiment matrix and how many times to run each of its cells."""

    experiment: Experiment
    repeats: int = DEFAULT_REPEATS

    def validated(self) -> Sweep:
        """This sweep with its experiment validated; `InvalidInput` if malformed."""
        return self.planned()[0]

    def planned(self) -> tuple[Sweep, RunPlan]:
        """This sweep validated, and the plan its runs share."""
        if not isinstance(self.repeats, int) or self.repeats < 1:
            raise InvalidInput(f"repeats must be at least 1, not {self.repeats!r}")
        plan = plan_run(self.experiment)
        return replace(self, experiment=plan.experiment), plan

    def schedule(self) -> list[tuple[int, Cell]]:
        """(repeat, cell) in the order they run: rounds of the matrix, every other one reversed."""
        cells = self.experiment.cells()
        return [
            (round_, cell)
            for round_ in range(self.repeats)
            for cell in (cells if round_ % 2 == 0 else list(reversed(cells)))
        ]

    def parameters(self) -> dict[str, Any]:
        return {**self.experiment.parameters(), "repeats": self.repeats, "order": "rounds, alternating"}


@dataclass(frozen=True)
class SweepProgress:
    """Where the sweep is: the run in hand (``run`` of ``runs``) and the race engine's own progress."""

    run: int
    runs: int
    repeat: int
    cell: Cell
    race: Progress | None


@dataclass
class SweepResult:
    concord_version: str
    started_at: str
    parameters: dict[str, Any]
    database: dict[str, Any] = field(default_factory=dict)
    runs: dict[Cell, list[CellResult]] = field(default_factory=dict)
    interrupted: bool = False
    error: str | None = None
    finished_at: str | None = None
    files: dict[str, str] = field(default_factory=dict)

    def cells(self) -> list[dict[str, Any]]:
        """One aggregated cell per matrix cell with at least one completed run, in matrix order."""
        return [aggregate_cell(runs) for runs in self.runs.values() if runs]

    def document(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "kind": "sweep",
            "concord_version": self.concord_version,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "database": self.database,
            "parameters": self.parameters,
            "interrupted": self.interrupted,
            "cells": self.cells(),
        }
        if self.error:
            doc["error"] = self.error
        if self.files:
            doc["files"] = self.files
        return doc


def run_sweep(
    sweep: Sweep,
    *,
    database_url: str | None = None,
    on_progress: Callable[[SweepProgress], None] | None = None,
) -> SweepResult:
    """Run the sweep's schedule; stop early (``interrupted``) on Ctrl-C, keeping what completed."""
    from concord import __version__

    sweep, plan = sweep.planned()
    check_capacity(database_url, max(sweep.experiment.workers))
    result = SweepResult(__version__, _now(), sweep.parameters())
    result.runs = {cell: [] for cell in sweep.experiment.cells()}
    schedule = sweep.schedule()
    try:
        for number, (repeat, cell) in enumerate(schedule, 1):
            if not run_one(
                plan,
                cell,
                result,
                database_url,
                _reporter(on_progress, number, len(schedule), repeat, cell),
            ):
                break
    except KeyboardInterrupt:  # between runs, or while a run was starting its workers
        result.interrupted = True
    result.finished_at = _now()
    return result


def run_one(plan: RunPlan, cell: Cell, result: SweepResult, database_url, on_progress) -> bool:
    """Run one cell once and keep its outcome; False when the sweep must stop."""
    race = run_experiment(plan.only(cell), database_url=database_url, on_progress=on_progress)
    result.database = result.database or race.database
    completed = [c for c in race.cells if not c.interrupted]
    result.runs[cell].extend(completed)
    if race.error:
        result.error = race.error
    if race.interrupted:
        result.interrupted = True
    return not (race.error or race.interrupted)


def _reporter(on_progress, number: int, runs: int, repeat: int, cell: Cell):
    if on_progress is None:
        return None
    on_progress(SweepProgress(number, runs, repeat, cell, None))
    return lambda race: on_progress(SweepProgress(number, runs, repeat, cell, race))


def check_capacity(database_url: str | None, workers: int) -> None:
    """Refuse before the first run, not hours in, when the largest cell cannot connect."""
    from concord.db.urls import libpq_dsn, resolve_url

    try:
        with psycopg.connect(libpq_dsn(resolve_url(database_url)), autocommit=True) as control:
            ensure_capacity(control, workers)
    except psycopg.Error as exc:
        raise translate(exc) from exc


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
