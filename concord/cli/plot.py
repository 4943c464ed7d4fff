"""`concord plot RESULT`: a chart of a result as PNG or SVG (a row per measure, a panel per
isolation level), or a throughput chart in the terminal."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from concord.cli.common import console
from concord.cli.errors import UsageError
from concord.plot.figure import FORMATS

Result = Annotated[
    str,
    typer.Argument(
        help="A result file, or its name in results/ (`concord results list`).", show_default=False
    ),
]
Out = Annotated[Path, typer.Option("--out", help="Look names up in results/ under this directory.")]


def plot(
    result: Result,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            show_default=False,
            help="Write the chart to FILE.png or FILE.svg (needs the plot extra).",
        ),
    ] = None,
    out: Out = Path("."),
) -> None:
    """Chart a race or sweep result (throughput, latency, conflicts and violations against workers)
    or a calibrate result (concord's throughput as a share of pgbench's)."""
    from concord.plot import save_figure, terminal_chart
    from concord.plot.calibration import calibration_chart
    from concord.reports.store import KINDS, document_kind, load_result

    if output is not None and output.suffix.lower() not in FORMATS:
        raise UsageError(
            f"cannot write a chart as {output.suffix or 'a file without extension'}: use .png or .svg"
        )
    document = load_result(result, out, kinds=KINDS)
    kind = document_kind(document)
    if kind == "anomalies":
        raise UsageError(
            f"{result} is an anomalies result, a matrix of verdicts: nothing to plot "
            f"(`concord results show {result}` shows it)"
        )
    if output is None:
        screen = console()
        chart = calibration_chart(document) if kind == "calibrate" else None
        screen.print(chart or terminal_chart(document, width=min(screen.width, 120)))
        return
    save_figure(document, output)
    console().print(f"chart: {output}", markup=False, highlight=False)
