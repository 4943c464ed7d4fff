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
    """Chart a race or sweep result: throughput, latency, conflicts and violations against workers."""
    from concord.plot import save_figure, terminal_chart
    from concord.reports.store import load_result

    if output is not None and output.suffix.lower() not in FORMATS:
        raise UsageError(
            f"cannot write a chart as {output.suffix or 'a file without extension'}: use .png or .svg"
        )
    document = load_result(result, out)
    if output is None:
        screen = console()
        screen.print(terminal_chart(document, width=min(screen.width, 120)))
        return
    save_figure(document, output)
    console().print(f"chart: {output}", markup=False, highlight=False)
