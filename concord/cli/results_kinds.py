"""`concord results show | compare` for the documents of anomalies and calibrate runs: each read
back into the object its own command renders, and their comparisons as tables."""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from concord.reports.compare import BEYOND, UNKNOWN, WITHIN

NOTE_STYLE = {WITHIN: "dim", BEYOND: "bold yellow", UNKNOWN: "dim"}


def suite_result(document: dict[str, Any]):
    """An anomalies document read back into the `SuiteResult` whose matrix `concord anomalies` prints
    (without the transcripts: `concord anomalies --explain` reruns a cell to show one)."""
    from datetime import datetime

    from concord.anomalies import Cell, Level, SuiteResult, Verdict

    cells = [
        Cell(
            anomaly=c["anomaly"],
            variant=c["variant"],
            title=c.get("title", c["anomaly"]),
            isolation=Level(c["isolation"]),
            verdict=Verdict(c["verdict"]),
            evidence=c.get("evidence", ""),
            observation=c.get("observation", ""),
            prevented_by=list(c.get("prevented_by", [])),
            seconds=c.get("seconds", 0.0),
        )
        for c in document["cells"]
    ]
    return SuiteResult(
        started_at=datetime.fromisoformat(document["started_at"]),
        seconds=document.get("seconds", 0.0),
        database=document.get("database", {}),
        step_timeout=document.get("step_timeout", 0.0),
        cells=cells,
    )


def calibration_report(document: dict[str, Any]):
    """A calibrate document read back into the `CalibrationReport` `concord calibrate` renders."""
    from concord.calibrate import CalibrationReport, Row

    keys = ("workers", "executor", "pgbench_tps", "concord_tps", "floor_tps")
    return CalibrationReport(
        started_at=document.get("started_at", "?"),
        pgbench=document.get("pgbench", "?"),
        script=document.get("script", ""),
        parameters=document.get("parameters", {}),
        default_executor=document.get("default_executor", "?"),
        rows=[Row(**{k: row[k] for k in keys if k in row}) for row in document["rows"]],
        interrupted=bool(document.get("interrupted")),
        files=document.get("files", {}),
    )


def print_verdict_changes(console: Console, found: dict[str, Any]) -> None:
    changed = [c for c in found["cells"] if c["changed"]]
    table = Table(
        title=f"A = {found['a']}\nB = {found['b']}",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
    )
    for name in ("anomaly", "variant", "isolation", "A", "B"):
        table.add_column(name, no_wrap=True)
    for c in changed:
        table.add_row(
            c["anomaly"], c["variant"], c["isolation"], c["verdict_a"], c["verdict_b"], style="yellow"
        )
    if changed:
        console.print(table)
    same = len(found["cells"]) - len(changed)
    console.print(f"verdicts changed: {len(changed)}; the same: {same}", markup=False, highlight=False)
    for side in ("a", "b"):
        for key in found[f"only_in_{side}"]:
            console.print(f"only in {side.upper()}: {' / '.join(key)}", markup=False, highlight=False)


def print_ratio_changes(console: Console, found: dict[str, Any]) -> None:
    table = Table(
        title=f"A = {found['a']}\nB = {found['b']}",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
    )
    for name in ("workers", "executor", "ratio A", "ratio B", "change", "note"):
        table.add_column(
            name, justify="right" if name in ("workers", "ratio A", "ratio B", "change") else "left"
        )
    for r in found["rows"]:
        style = NOTE_STYLE[r["note"]]
        cells = (
            _ratio(r["ratio_a"]),
            _ratio(r["ratio_b"]),
            "-" if r["change"] is None else f"{r['change']:+.2f}",
        )
        table.add_row(str(r["workers"]), r["executor"], *cells, Text(r["note"], style=style))
    console.print(table)
    console.print("ratio: concord tps / pgbench tps, the median of the rounds", style="dim", markup=False)
    for side in ("a", "b"):
        for workers, executor in found[f"only_in_{side}"]:
            console.print(
                f"only in {side.upper()}: {workers} workers, {executor}", markup=False, highlight=False
            )


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"
