"""`concord race`: race workers against the board over a matrix of strategies and isolation levels.

Parse the options into an `Experiment`, call `run_experiment`, write the results, render. A live
display (on stderr, only on a terminal) shows the cell in progress; the table goes to stdout, or
the JSON document alone with --json.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.live import Live
from rich.text import Text

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
from concord.cli.table import rich_table
from concord.cli.waits import print_waits, print_warnings, top_wait
from concord.errors import InvalidInput
from concord.nouns import count
from concord.race import (
    Experiment,
    Progress,
    RaceResult,
    RunPlan,
    load_experiment,
    plan_run,
    run_experiment,
    write_results,
)
from concord.race.experiment import parse_workers, split_list
from concord.race.http import http_default_strategies, require_http_client, run_http_experiment
from concord.reports.cells import RACE_NARROW, RACE_TERMINAL, per_cell_unit, verdict_style
from concord.reports.files import check_writable
from concord.reports.table import CellTable


def race(
    scenario: Scenario = None,
    strategy: Strategy = None,
    isolation: Isolation = None,
    workers: Annotated[
        str | None,
        typer.Option(
            "--workers",
            "-w",
            show_default=False,
            help="Worker counts, comma-separated (one connection each). Default: 8.",
        ),
    ] = None,
    executor: Executor = None,
    duration: Duration = None,
    ops: Ops = None,
    max_tries: MaxTries = None,
    lock_timeout: Annotated[
        str | None,
        typer.Option(
            "--lock-timeout",
            show_default=False,
            help="lock_timeout for every worker session (50ms, 1s); its errors count as lock_timeout.",
        ),
    ] = None,
    statement_timeout: Annotated[
        str | None,
        typer.Option(
            "--statement-timeout",
            show_default=False,
            help="statement_timeout for every worker session; its errors count as statement_timeout.",
        ),
    ] = None,
    experiment: Annotated[
        Path | None,
        typer.Option(
            "--experiment",
            "-x",
            show_default=False,
            help="An experiment file (TOML); options given here override it.",
        ),
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="Write results/ and logs/ under this directory.")] = Path(
        "."
    ),
    via: Annotated[
        str | None,
        typer.Option(
            "--via",
            show_default=False,
            help="Race through a running `concord serve` at this URL (assign, counter) instead of SQL.",
        ),
    ] = None,
    database_url: DatabaseUrl = None,
    as_json: Json = False,
    history: Annotated[
        Path | None,
        typer.Option(
            "--history",
            show_default=False,
            help="list-append only: write each cell's Elle history here (.json, or .jsonl for JSON Lines).",
        ),
    ] = None,
    waits: ShowWaits = False,
    no_waits: NoWaits = False,
) -> None:
    """Race workers against the board; report throughput, latency, conflicts and anomalies per cell."""
    if via:
        try:
            require_http_client()
        except InvalidInput as exc:
            raise UsageError(exc.message) from exc
    if via and strategy is None:  # through HTTP some scenarios have a narrower default set
        named = scenario or (load_experiment(experiment).scenario if experiment else Experiment().scenario)
        strategy = ",".join(http_default_strategies(named)) or None
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
        lock_timeout=lock_timeout,
        statement_timeout=statement_timeout,
        waits=not no_waits,
    )
    if waits and no_waits:
        raise UsageError("--waits prints the wait samples that --no-waits turns off: give one of them")
    recorder = history_scenario(plan.experiment, history, via)
    if recorder is not None:  # the planned scenario itself, recording its histories
        plan = replace(plan, scenario=recorder)
    check_writable(out / "results", out / "logs")  # before the run, not after its last cell
    result = run_with_live_display(plan, database_url, via=via)
    result = replace(result, files=write_results(result, out))  # the run as written, with its files
    render(
        result.document(), as_json=as_json, human=lambda console: print_result(console, result, waits=waits)
    )
    if result.error:
        error_console().print(f"concord: {result.error}", markup=False)
        raise typer.Exit(EXIT_ERROR)
    if result.interrupted:
        # what became of the results; the error policy then says how the run ended (interrupted,
        # or terminated by SIGTERM), once
        error_console().print("concord: partial results written", markup=False)
        raise typer.Exit(EXIT_INTERRUPTED)
    exit_on_failed_cells([c.error for c in result.cells])


def exit_on_failed_cells(errors: list[str | None]) -> None:
    """Exit 1 when a cell failed (a user scenario's code raised, or its setup refused the cell),
    after every cell ran and the results were written."""
    failed = [e for e in errors if e]
    if failed:
        error_console().print(
            f"concord: {count(len(failed), 'cell')} failed; the first: {failed[0]}", markup=False
        )
        raise typer.Exit(EXIT_ERROR)


def build_plan(path: Path | None, **given) -> RunPlan:
    """The experiment file (or the defaults) with every option the user gave laid over it,
    planned: validated, its names resolved (a usage error, exit 2, when it does not plan)."""
    try:
        base = load_experiment(path) if path is not None else Experiment()
        changes: dict = {}
        if given["scenario"] is not None:
            changes.update(scenario=given["scenario"], scenario_source=None)
            if path is None or given["scenario"] != base.scenario:
                changes.update(strategies=(), isolations=())  # the new scenario's own defaults
        if given["strategy"] is not None:
            changes["strategies"] = tuple(split_list(given["strategy"]))
        if given["isolation"] is not None:
            changes["isolations"] = tuple(split_list(given["isolation"]))
        if given["workers"] is not None:
            changes["workers"] = parse_workers(given["workers"])
        if given["executor"] is not None:
            changes["executor"] = given["executor"]
        if given["duration"] is not None:
            changes.update(duration_s=given["duration"], ops=None)
        if given["ops"] is not None:
            changes.update(ops=given["ops"], duration_s=None)
        if given["max_tries"] is not None:
            changes["max_tries"] = given["max_tries"]
        if given.get("waits") is False:
            changes["waits"] = False
        for timeout in ("lock_timeout", "statement_timeout"):
            if given.get(timeout) is not None:
                changes[timeout] = given[timeout]
        return plan_run(replace(base, **changes))
    except InvalidInput as exc:
        raise UsageError(exc.message) from exc


def history_scenario(experiment: Experiment, path: Path | None, via: str | None):
    """The list-append scenario writing its histories to ``path`` (None without --history)."""
    if path is None:
        return None
    if experiment.scenario != "list-append" or via:
        raise UsageError("--history records list-append races run over SQL: add --scenario list-append")
    from concord.race.scenarios.list_append.scenario import ListAppend

    return ListAppend(history=path)


def run_with_live_display(plan: RunPlan, database_url: str | None, *, via: str | None = None) -> RaceResult:
    """Run the race, with a live display on stderr whenever stderr is a terminal: `--json` or a
    redirected stdout changes what goes to stdout, not whether the person at the terminal sees
    the run moving."""
    from concord.race import TooManyWorkers

    def run(on_progress=None) -> RaceResult:
        if via:
            return run_http_experiment(plan, via, on_progress=on_progress)
        return run_experiment(plan, database_url=database_url, on_progress=on_progress)

    stderr = Console(stderr=True, highlight=False)
    try:
        if not stderr.is_terminal:
            return run()
        with Live(Text("starting…"), console=stderr, refresh_per_second=8, transient=True) as display:
            return run(lambda p: display.update(progress_line(p)))
    except (TooManyWorkers, InvalidInput) as exc:
        raise UsageError(exc.message) from exc


def progress_line(p: Progress) -> Text:
    rate = p.commits / p.elapsed_s if p.elapsed_s > 0 else 0.0
    left = f"{max(0.0, p.duration_s - p.elapsed_s):.1f} s left" if p.duration_s else f"{p.elapsed_s:.1f} s"
    return Text.assemble(
        (f"cell {p.cell_index + 1}/{p.cells} ", "bold"),
        f"{p.cell.scenario} · {p.cell.strategy} · {p.cell.isolation} · {count(p.cell.workers, 'worker')}   ",
        (f"{p.commits:,} commits ({rate:,.0f}/s)", "green"),
        "   ",
        (f"{p.conflicts:,} conflicts", "yellow"),
        f"   {left}",
    )


WIDE = 130  # below this many columns the verdicts go under the table instead of in it


def print_result(console: Console, result: RaceResult, *, waits: bool = False) -> None:
    """The table: one row per cell, numbers first, then the verdict (in the table when it fits);
    with ``waits``, each cell's whole wait profile after it."""
    params = result.parameters
    wide = console.width >= WIDE
    table = CellTable.of(RACE_TERMINAL, result.cells)
    if not wide:  # fit 80 columns: the lines below give the verdicts, seconds and top waits
        table = table.without(*RACE_NARROW)
    title = f"concord race: {params['scenario']} ({params['executor']}, {per_cell_unit(params)})"
    console.print(rich_table(table, title=title, numbered=True))
    if not wide:
        for n, c in enumerate(result.cells, 1):
            console.print(
                Text.assemble(
                    f"{n:>2}. {c.strategy}, {c.isolation}, {count(c.workers, 'worker')}, "
                    f"{c.duration_s:,.1f} s: ",
                    _verdict(c),
                    f" · {top_wait(c.waits)}" if c.waits else "",
                )
            )
    if result.cells:
        console.print(
            f"invariant: {result.cells[0].invariant}; RC/RR/SER = read committed/repeatable read/"
            "serializable",
            markup=False,
            highlight=False,
        )
    for c in result.cells:
        for problem in [
            *c.worker_errors[:3],
            *(f"worker {d['worker']}: {d['reason']}" for d in c.dead_workers),
        ]:
            console.print(
                f"{c.strategy}/{c.isolation}: {problem}", style="yellow", markup=False, highlight=False
            )
    print_warnings(console, result.cells)
    if waits:
        print_waits(console, result.cells)
    if result.interrupted:
        console.print("interrupted: partial results", style="bold yellow")
    if result.files:
        console.print(
            f"results: {result.files['json']} (.csv, .md); traces: {result.files['traces']}",
            markup=False,
            highlight=False,
        )


def _verdict(cell) -> Text:
    return Text(cell.verdict, style=verdict_style(cell.to_dict()))
