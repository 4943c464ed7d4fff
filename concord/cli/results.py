"""`concord results list | show | compare`: the result documents already written."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console, JustifyMethod
from rich.table import Table
from rich.text import Text

from concord.cli.common import Json, render
from concord.cli.errors import UsageError
from concord.cli.matrix import ShowWaits
from concord.cli.plot import Out, Result
from concord.cli.race import print_result as print_race
from concord.cli.results_kinds import (
    NOTE_STYLE,
    calibration_report,
    print_ratio_changes,
    print_verdict_changes,
    suite_result,
)
from concord.cli.sweep import print_sweep
from concord.race import CellResult, RaceResult
from concord.reports.cells import SHORT_ISOLATION
from concord.reports.compare import BEYOND, UNKNOWN, WITHIN, Change, Comparison, compare
from concord.reports.compare_kinds import compare_anomalies, compare_calibrations
from concord.reports.store import (
    KINDS,
    RACES,
    ResultFile,
    document_kind,
    find_result,
    list_results,
    load_result,
    with_article,
)

app = typer.Typer(
    help="Results written by race, sweep, anomalies and calibrate: list them, show one, compare two.",
    no_args_is_help=True,
)


@app.command("list")
def list_(out: Out = Path("."), as_json: Json = False) -> None:
    """List the result documents under results/."""
    found = list_results(out)
    render(
        [r.as_dict() for r in found], as_json=as_json, human=lambda console: print_list(console, found, out)
    )


@app.command("show")
def show(result: Result, out: Out = Path("."), as_json: Json = False, waits: ShowWaits = False) -> None:
    """Show one result as the command that wrote it (race, sweep, anomalies, calibrate) printed it."""
    document = load_result(result, out, kinds=KINDS)
    if waits and document_kind(document) not in RACES:
        raise UsageError(f"--waits shows the wait profiles of race and sweep results, not of {result}")
    render(document, as_json=as_json, human=lambda console: print_document(console, document, waits=waits))


@app.command("compare")
def compare_(
    a: Annotated[str, typer.Argument(help="The baseline result (file or name).", show_default=False)],
    b: Annotated[str, typer.Argument(help="The result to compare with it.", show_default=False)],
    out: Out = Path("."),
    as_json: Json = False,
) -> None:
    """Compare two results cell by cell: throughput and p99 (race, sweep), verdicts (anomalies) or
    the concord/pgbench ratio (calibrate), with the change and the spread."""
    baseline, other = load_result(a, out, kinds=KINDS), load_result(b, out, kinds=KINDS)
    names = (str(find_result(a, out)), str(find_result(b, out)))
    kinds = {document_kind(baseline), document_kind(other)}
    if len(kinds) > 1 and not kinds <= set(RACES):
        first, second = document_kind(baseline), document_kind(other)
        raise UsageError(f"cannot compare {with_article(first)} result with {with_article(second)} result")
    if kinds == {"anomalies"}:
        found = compare_anomalies(baseline, other, names=names)
        render(found, as_json=as_json, human=lambda console: print_verdict_changes(console, found))
        return
    if kinds == {"calibrate"}:
        found = compare_calibrations(baseline, other, names=names)
        render(found, as_json=as_json, human=lambda console: print_ratio_changes(console, found))
        return
    comparison = compare(baseline, other, names=names)
    render(comparison.as_dict(), as_json=as_json, human=lambda console: print_comparison(console, comparison))


def print_list(console: Console, found: list[ResultFile], out: Path) -> None:
    if not found:
        console.print(f"no results under {out / 'results'}", markup=False, highlight=False)
        return
    folder = out / "results"
    table = Table(title=f"results in {folder}", box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    names = [str(r.path.relative_to(folder)) for r in found]
    for column in ("file", "kind", "scenario", "started", "cells", "interrupted"):
        justify: JustifyMethod = "right" if column == "cells" else "left"
        if column == "file":  # whole, on one line, to paste into `concord plot`: the others give way
            table.add_column(column, no_wrap=True, min_width=max(map(len, names)))
        else:
            table.add_column(column, justify=justify, overflow="fold")
    for r, name in zip(found, names, strict=True):
        table.add_row(name, r.kind, r.scenario, r.started_at, str(r.cells), "yes" if r.interrupted else "")
    console.print(table)


def print_document(console: Console, document: dict[str, Any], *, waits: bool = False) -> None:
    kind = document_kind(document)
    if kind == "sweep":
        print_sweep(console, document, waits=waits)
    elif kind == "anomalies":
        from concord.cli.anomalies import matrix

        console.print(matrix(suite_result(document)))
    elif kind == "calibrate":
        from concord.cli.calibrate import _table as print_calibration

        print_calibration(console, calibration_report(document))
    else:
        print_race(console, race_result(document), waits=waits)


def race_result(document: dict[str, Any]) -> RaceResult:
    """A race document read back into the `RaceResult` that `concord race` renders."""
    names = {f.name for f in fields(CellResult)}
    params = document["parameters"]
    # What a cell needs beyond the keys every result has; older or hand-made files may lack them.
    defaults = {
        "scenario": params.get("scenario", "?"),
        "executor": params.get("executor", "?"),
        "duration_s": params.get("duration_s") or 0.0,
        **dict.fromkeys(("attempts", "commits", "retries", "failures"), 0),
        "conflicts": {},
        "violations": None,
        **dict.fromkeys(("invariant", "verdict", "finding"), ""),
        "operations": {},
    }
    cells = [CellResult(**defaults | {k: v for k, v in c.items() if k in names}) for c in document["cells"]]
    return RaceResult(
        concord_version=document.get("concord_version", "?"),
        started_at=document.get("started_at", "?"),
        database=document.get("database", {}),
        parameters=document["parameters"],
        interrupted=bool(document.get("interrupted")),
        cells=cells,
        error=document.get("error"),
        files=document.get("files", {}),
    )


COMPARE_WIDE = 110  # below this many columns the p99 values give way to their change
NARROW_HEADERS = {
    "note": "spread",
    "commits/s A": "thr A",
    "B": "thr B",
    "change": "thr Δ",
    "change ": "p99 Δ",
    "violations": "viol.",
}


def print_comparison(console: Console, c: Comparison) -> None:
    table = Table(title=f"A = {c.a}\nB = {c.b}", box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    columns = ["strategy", "iso", "workers", "commits/s A", "B", "change", "p99 ms A", "p99 B", "change "]
    columns += ["violations", "note"]
    narrow = console.width < COMPARE_WIDE
    if narrow:  # fit 80 columns: keep p99's change, drop its two values, shorten the headers
        columns = [name for name in columns if name not in ("p99 ms A", "p99 B")]
    for name in columns:
        header = NARROW_HEADERS.get(name, name) if narrow else name
        justify: JustifyMethod = "left" if name in ("strategy", "iso", "note") else "right"
        table.add_column(header, justify=justify, no_wrap=True, overflow="fold")  # never "1,9…"
    for cell in c.cells:
        thr_a, thr_b, thr_change = _measure(cell.throughput, "{:,.0f}")
        p99_a, p99_b, p99_change = _measure(cell.p99_ms, "{:,.1f}")
        values: dict[str, str | Text] = {
            "strategy": cell.strategy,
            "iso": SHORT_ISOLATION.get(cell.isolation, cell.isolation),
            "workers": str(cell.workers),
            "commits/s A": thr_a,
            "B": thr_b,
            "change": thr_change,
            "p99 ms A": p99_a,
            "p99 B": p99_b,
            "change ": p99_change,
            "violations": f"{_count(cell.violations_a)}{'→' if narrow else ' → '}{_count(cell.violations_b)}",
            "note": note(cell.throughput, cell.p99_ms, short=narrow),
        }
        table.add_row(*(values[name] for name in columns))
    console.print(table)
    console.print(
        "within spread: the runs of A and B overlap, so the change is no larger than repeating the same "
        "cell gives; beyond spread: they do not; spread unknown: single runs (use `concord sweep`)."
        + (" thr: commits/s; Δ: change from A to B." if console.width < COMPARE_WIDE else ""),
        style="dim",
        markup=False,
    )
    for side, keys in (("A", c.only_in_a), ("B", c.only_in_b)):
        for line in grouped(keys):
            console.print(f"only in {side}: {line}", markup=False, highlight=False)
    for line in c.differences:
        console.print(f"differs: {line}", style="yellow", markup=False, highlight=False)


def _measure(change: Change, fmt: str) -> tuple[str, str, Text]:
    a = "-" if change.a is None else fmt.format(change.a)
    b = "-" if change.b is None else fmt.format(change.b)
    pct = "-" if change.change_pct is None else f"{change.change_pct:+.1f}%"
    return a, b, Text(pct, style=NOTE_STYLE[change.note])


def note(throughput: Change, p99: Change, *, short: bool = False) -> Text:
    """One note for the row: the shared one, or each measure's in a word (in one word when short)."""
    notes = {throughput.note, p99.note}
    style = "bold yellow" if BEYOND in notes else "dim"
    word = {WITHIN: "within", BEYOND: "beyond", UNKNOWN: "unknown"}
    if len(notes) == 1:
        return Text(word[throughput.note] if short else throughput.note, style=style)
    if short:
        odd = "thr" if throughput.note != WITHIN else "p99"
        return Text(f"{odd} {word[(throughput if odd == 'thr' else p99).note]}", style=style)
    return Text(f"throughput {word[throughput.note]}, p99 {word[p99.note]}", style=style)


def grouped(keys: list[tuple[str, str, str, int]]) -> list[str]:
    """Cells as few lines: 'counter, none (read committed, serializable) at 1, 4 workers'."""
    ladders: dict[tuple[str, str], dict[str, list[int]]] = {}
    for scenario, strategy, isolation, workers in keys:
        ladders.setdefault((scenario, strategy), {}).setdefault(isolation, []).append(workers)
    lines = []
    for (scenario, strategy), isolations in ladders.items():
        by_ladder: dict[tuple[int, ...], list[str]] = {}
        for isolation, counts in isolations.items():
            by_ladder.setdefault(tuple(counts), []).append(isolation)
        for counts_of_ladder, names in by_ladder.items():
            count = "worker" if counts_of_ladder == (1,) else "workers"
            ladder = ", ".join(map(str, counts_of_ladder))
            lines.append(f"{scenario}, {strategy} ({', '.join(names)}) at {ladder} {count}")
    return lines


def _count(value: int | None) -> str:
    return "?" if value is None else f"{value:,}"
