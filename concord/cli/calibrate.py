"""`concord calibrate`: concord's harness against pgbench, same transaction, same server.

Parse, call `concord.calibrate.calibrate`, write ``results/<stamp>-calibrate.json``, render a
table (or the JSON document with --json). Progress lines go to stderr.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from concord.calibrate import EXECUTORS, TARGET_RATIO, Calibration, CalibrationReport, calibrate, write_report
from concord.cli.common import DatabaseUrl, Json, error_console, render
from concord.cli.errors import EXIT_INTERRUPTED, UsageError
from concord.errors import InvalidInput
from concord.nouns import count
from concord.race.experiment import parse_workers, split_list
from concord.reports.files import check_writable

#: Up to this many rounds the table lists every round's ratio; past it, their middle half.
ROUNDS_LISTED = 8


def calibrate_command(
    workers: Annotated[
        str, typer.Option("--workers", "-w", help="Worker counts, comma-separated.")
    ] = "1,8,50",
    duration: Annotated[
        float, typer.Option("--duration", "-d", help="Seconds per run of each client.")
    ] = 3.0,
    rounds: Annotated[
        int,
        typer.Option(
            "--rounds", "-r", help="Alternating pgbench/concord rounds (more, shorter rounds pair better)."
        ),
    ] = 7,
    executor: Annotated[
        str, typer.Option("--executor", "-e", help="threads, processes, asyncio (comma-separated) or all.")
    ] = "threads,asyncio",
    pgbench_threads: Annotated[
        str,
        typer.Option(
            "--pgbench-threads",
            help="pgbench -j: cpus (its best here: a few threads multiplexing the connections), "
            "workers (a thread per connection, like concord's threads executor) or a number.",
        ),
    ] = "cpus",
    floor: Annotated[
        bool,
        typer.Option(
            "--floor",
            help="Also run the plainest Python client (psycopg's libpq calls in a loop, no concord "
            "code) in every round: what Python costs here, apart from what concord costs.",
        ),
    ] = False,
    as_json: Json = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Run the counter transaction (pessimistic) through pgbench and through concord, alternating."""
    calibration = _calibration(workers, executor, duration, rounds, pgbench_threads, floor)
    check_writable(Path("results"))  # before the rounds, not after them
    errors = error_console()
    report = calibrate(calibration, database_url=database_url, on_step=lambda s: errors.print(s, style="dim"))
    # written by the results store (which saves the document elsewhere if that fails)
    report = replace(report, files={"json": write_report(report)})
    render(report.as_dict(), as_json=as_json, human=lambda c: _table(c, report))
    if report.interrupted:
        raise typer.Exit(EXIT_INTERRUPTED)


def _calibration(
    workers: str, executor: str, duration: float, rounds: int, threads: str, floor: bool = False
) -> Calibration:
    """The options as a validated `Calibration`; a bad value is a usage error (exit 2)."""
    executors = EXECUTORS if executor.strip().lower() == "all" else tuple(split_list(executor.lower()))
    threads = threads.strip().lower()
    try:
        return Calibration(
            workers=parse_workers(workers),
            executors=executors,
            duration_s=duration,
            rounds=rounds,
            pgbench_threads=int(threads) if threads.isdigit() else threads,
            floor=floor,
        ).validated()
    except InvalidInput as exc:
        raise UsageError(exc.message) from exc


def _table(console: Console, report: CalibrationReport) -> None:
    jobs = report.parameters["pgbench_threads"]
    title = f"counter / pessimistic: concord vs pgbench -M prepared (-j {jobs}, at most one per client)"
    table = Table(box=box.SIMPLE_HEAD, title=title)
    for header in ("workers", "executor", "pgbench tps", "concord tps", "ratio", "rounds"):
        table.add_column(header, justify="left" if header == "executor" else "right")
    best, intervals, unsettled = report.best(), [], False
    for row in report.rows:
        mark = " *" if best.get(row.workers) is row else ""
        data = row.as_dict()
        if (interval := data["ratio_interval"]) is not None:
            intervals.append(f"{count(row.workers, 'worker')} {row.executor} {_middle(interval)}")
            unsettled = unsettled or interval[0] <= TARGET_RATIO <= interval[1]
        table.add_row(
            str(row.workers),
            row.executor + mark,
            _num(data["pgbench_median"]),
            _num(data["concord_median"]),
            "-" if row.ratio is None else f"{row.ratio:.2f}",
            _rounds(row.ratios, data["ratio_quartiles"]),
        )
    console.print(table)
    headline = ", ".join(f"{count(w, 'worker')} {r:.2f}" for w, r in report.headline().items())
    console.print(
        f"medians of {report.parameters['rounds']} alternating rounds; ratio = median of per-round "
        f"concord/pgbench{_rounds_shown(report)}; * highest executor (picked after the fact: biased upward); "
        f"default executor: {report.default_executor}"
        + (f"; asyncio on {loop}" if (loop := report.parameters.get("event_loop")) else "")
    )
    console.print(f"median executor: {headline or 'no ratio'} (target {TARGET_RATIO}, judged on these)")
    if intervals:
        console.print(
            f"95% interval of each median: {', '.join(intervals)}"
            + (f"; one that holds {TARGET_RATIO} leaves the target unsettled" if unsettled else "")
        )
    if report.parameters.get("floor"):
        _floor_table(console, report)
    elif not report.as_dict()["target_met"]:
        console.print(
            f"below {TARGET_RATIO}: `concord calibrate --floor` shows how much of the gap any "
            "Python client has on this machine, and how much is concord's"
        )
    if report.files:
        console.print(f"written: {report.files['json']}")
    if report.interrupted:
        console.print("interrupted: partial results")


def _floor_table(console: Console, report: CalibrationReport) -> None:
    """Per worker count: pgbench, the plain-Python floor and the best executor, side by side."""
    table = Table(box=box.SIMPLE_HEAD, title="where the gap goes: Python's share and concord's")
    for header in ("workers", "pgbench tps", "floor tps", "floor/pgbench", "best", "concord/floor"):
        table.add_column(header, justify="left" if header == "best" else "right")
    middles, intervals = [], []
    for workers, row in sorted(report.best().items()):
        data = row.as_dict()
        table.add_row(
            str(workers),
            _num(data["pgbench_median"]),
            _num(data.get("floor_median")),
            _ratio(data.get("floor_vs_pgbench")),
            row.executor,
            _ratio(data.get("concord_vs_floor")),
        )
        if (quartiles := data.get("concord_vs_floor_quartiles")) is not None:
            middles.append(f"{count(workers, 'worker')} {_middle(quartiles)}")
        if (interval := data.get("concord_vs_floor_interval")) is not None:
            intervals.append(f"{count(workers, 'worker')} {_middle(interval)}")
    console.print(table)
    console.print(
        "floor: psycopg's libpq calls in a loop, a thread per connection, no concord code; "
        "floor/pgbench is what Python and psycopg cost here, concord/floor what concord adds"
    )
    if middles:  # a line, not a column: the table stays within 80 columns
        console.print(f"concord/floor, middle half of the rounds: {', '.join(middles)}")
    if intervals:
        console.print(f"concord/floor, 95% interval of the median: {', '.join(intervals)}")


def _rounds(ratios: list[float], middle: list[float] | None) -> str:
    if len(ratios) <= ROUNDS_LISTED:
        return " ".join(f"{r:.2f}" for r in ratios)
    return _middle(middle)


def _rounds_shown(report: CalibrationReport) -> str:
    """What the rounds column holds when it is not every round's ratio."""
    if any(len(row.ratios) > ROUNDS_LISTED for row in report.rows):
        return f"; past {ROUNDS_LISTED} rounds, the rounds column is their middle half (quartiles)"
    return ""


def _middle(span: list[float] | None) -> str:
    """A ``[low, high]`` pair (quartiles, an interval) as "low to high"."""
    return "-" if span is None else f"{span[0]:.2f} to {span[1]:.2f}"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"
