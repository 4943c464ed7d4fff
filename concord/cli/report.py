"""`concord report RESULT`: one page (Markdown or HTML) for a design review."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from concord.cli.common import console
from concord.cli.errors import UsageError
from concord.cli.plot import Out, Result

PAGE_FORMATS = (".md", ".html")


def report(
    result: Result,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            show_default=False,
            help="report.md (the chart is written beside it as report.png) or report.html (one file, "
            "chart embedded). Default: <result>-report.md next to the result.",
        ),
    ] = None,
    out: Out = Path("."),
) -> None:
    """Write a report page: parameters, database settings, charts, the table of cells and the verdicts."""
    from concord.reports.report import write_report
    from concord.reports.store import find_result, load_result

    if output is not None and output.suffix.lower() not in PAGE_FORMATS:
        raise UsageError(
            f"cannot write a report as {output.suffix or 'a file without extension'}: use .md or .html"
        )
    document = load_result(result, out)
    if output is None:
        source = find_result(result, out)
        output = source.with_name(f"{source.stem}-report.md")
    written = write_report(document, output)
    console().print(f"report: {', '.join(map(str, written))}", markup=False, highlight=False)
