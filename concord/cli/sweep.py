"""`concord sweep`: a scaling study. The matrix of `concord race`, each cell run several times
(interleaved), written as one result document with the median and spread of every cell.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from concord.cli.common import DatabaseUrl, Json, error_console, render
from concord.cli.errors import EXIT_ERROR, EXIT_INTERRUPTED, UsageError
from concord.cli.matrix import (
    Duration,
    Executor,
    Isolation,
    MaxTries,
    NoWaits,
    Ops,
    Scenario,
    ShowWaits,
    Strategy,
)
from concord.cli.race import WIDE, build_plan, exit_on_failed_cells
from concord.cli.table import rich_table
from concord.cli.waits import print_waits, print_warnings
from concord.errors import InvalidInput
from concord.nouns import count
from concord.race import TooManyWorkers
from concord.reports.cells import SHORT_ISOLATION, SWEEP_NARROW, SWEEP_TERMINAL, columns, per_cell_unit
from concord.reports.files import check_writable
from concord.reports.table import CellTable
from concord.sweeps import Sweep, SweepProgress, SweepResult, run_sweep, write_sweep
from concord.sweeps.runner import DEFAULT_REPEATS, DEFAULT_WORKERS


def sweep(
    scenario: Scenario = None,
    strategy: Strategy = None,
    isolation: Isolation = None,
    workers: Annotated[
        str | None,
        typer.Option(
            "--workers",
            "-w",
            show_default=False,
            help=f"The worker ladder, comma-separated. Default: {','.join(map(str, DEFAULT_WORKERS))}.",
        ),
    ] = None,
    repeats: Annotated[
        int, typer.Option("--repeats", "-r", help="Runs per cell; the spread is over these.")
    ] = DEFAULT_REPEATS,
    executor: Executor = None,
    duration: Duration = None,
    ops: Ops = None,
    max_tries: MaxTries = None,
    experiment: Annotated[
        Path | None,
        typer.Option(
            "--experiment",
            "-x",
            show_default=False,
            help="An experiment file (TOML) for the matrix; options given here override it.",
        ),
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="Write results/ under this directory.")] = Path("."),
    database_url: DatabaseUrl = None,
    as_json: Json = False,
    waits: ShowWaits = False,
    no_waits: NoWaits = False,
) -> None:
    """Run a scaling study: every cell `--repeats` times; one result with medians and spread."""
    if workers is None and experiment is None:
        workers = ",".join(map(str, DEFAULT_WORKERS))
    plan = build_plan(
        experiment,
        scenario=scenario,
        strategy=strategy,
        isolation=isolation,
        workers=workers,
        executor=executor,
        duration=duration,
        ops=ops,
        max_tries=max_tries,
        waits=not no_waits,
    )
    if waits and no_waits:
        raise UsageError("--waits prints the wait samples that --no-waits turns off: give one of them")
    try:
        study = Sweep(plan.experiment, repeats).validated()
    except InvalidInput as exc:
        raise UsageError(exc.message) from exc
    check_writable(out / "results")  # before the sweep, not after its last run
    result = run_with_progress(study, database_url)
    result = replace(result, files=write_sweep(result, out))  # the sweep as written, with its files
    document = result.document()
    render(document, as_json=as_json, human=lambda console: print_sweep(console, document, waits=waits))
    if result.error:
        error_console().print(f"concord: {result.error}", markup=False)
        raise typer.Exit(EXIT_ERROR)
    if result.interrupted:
        # what became of the results; the error policy then says how the run ended (interrupted,
        # or terminated by SIGTERM), once
        error_console().print("concord: partial results written", markup=False)
        raise typer.Exit(EXIT_INTERRUPTED)
    exit_on_failed_cells([c.get("error") for c in document["cells"]])


def run_with_progress(study: Sweep, database_url: str | None) -> SweepResult:
    stderr = Console(stderr=True, highlight=False)
    runs = len(study.schedule())
    per_run = study.experiment.duration_s or 0.0
    # Up front only what is certain (the runs' own time); how long the rest takes is estimated
    # from the runs done, by the bar or the log, as the sweep goes.
    stderr.print(
        f"{count(len(study.experiment.cells()), 'cell')} x {count(study.repeats, 'repeat')} = "
        f"{count(runs, 'run')}"
        + (f" of {per_run:g} s: at least {_minutes(runs * per_run)}" if per_run else ""),
        markup=False,
    )
    try:
        if not stderr.is_terminal:  # a log: one line per run, no animation
            log = RunLog(stderr)
            return run_sweep(study, database_url=database_url, on_progress=log.line)
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=stderr, transient=True) as bar:
            task = bar.add_task("starting", total=runs)
            return run_sweep(
                study,
                database_url=database_url,
                on_progress=lambda p: bar.update(task, completed=p.run - 1, description=progress_text(p)),
            )
    except TooManyWorkers as exc:
        raise UsageError(exc.message) from exc


def progress_text(p: SweepProgress) -> str:
    cell = p.cell
    iso = SHORT_ISOLATION.get(cell.isolation, cell.isolation)
    text = f"{cell.strategy} · {iso} · {count(cell.workers, 'worker')} · repeat {p.repeat + 1}"
    if p.race and p.race.elapsed_s > 0:
        text += f"  {p.race.commits / p.race.elapsed_s:,.0f} commits/s"
    return text


class RunLog:
    """One line per run on a log (stderr not a terminal), with the time left as the runs so far
    say: their mean time, times the runs to go."""

    def __init__(self, console: Console) -> None:
        self.console, self.started = console, time.monotonic()

    def line(self, p: SweepProgress) -> None:
        if p.race is not None:
            return
        done = p.run - 1
        left = ""
        if done:
            mean = (time.monotonic() - self.started) / done
            left = f" (about {_minutes(mean * (p.runs - done))} left)"
        self.console.print(f"run {p.run}/{p.runs}: {progress_text(p)}{left}", markup=False)


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds >= 90 else f"{seconds:.0f} s"


(SECS,) = columns("duration_s")  # the median run's measured length, with the runs' range


def print_sweep(console: Console, document: dict[str, Any], *, waits: bool = False) -> None:
    """The sweep as a table: medians with the min-max of the runs, totals, violations, verdicts;
    with ``waits``, each cell's wait profile (the mean of its runs') after it."""
    params = document["parameters"]
    wide = console.width >= WIDE
    table = CellTable.of(SWEEP_TERMINAL, document["cells"])
    if not wide:  # fit 80 columns: the lines below give the seconds and verdicts (which count give-ups)
        table = table.without(*SWEEP_NARROW)
    title = (
        f"concord sweep: {params['scenario']} ({params['executor']}, {per_cell_unit(params)}, "
        f"{count(params.get('repeats', 1), 'run')} per cell)"
    )
    console.print(rich_table(table, title=title))
    if not wide:
        for n, c in enumerate(document["cells"], 1):
            console.print(
                f"{n:>2}. {c['strategy']}, {c['isolation']}, "
                f"{count(c['workers'], 'worker')}, {SECS.shown(c)} s: {c['verdict']}",
                markup=False,
            )
    console.print(
        "medians of the runs; retries, gave up and violations are totals over the runs", style="dim"
    )
    print_warnings(console, document["cells"])
    if waits:
        print_waits(console, document["cells"])
    if document.get("interrupted"):
        console.print("interrupted: partial results", style="bold yellow")
    if document.get("files"):
        console.print(f"results: {document['files']['json']} (.csv, .md)", markup=False, highlight=False)
