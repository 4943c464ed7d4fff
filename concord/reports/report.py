"""The report of one result document: parameters, database settings, the charts, the table of
cells and the verdicts, as a `Page` ready for Markdown or HTML.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from concord.nouns import count
from concord.reports.cells import REPORT, per_cell_unit
from concord.reports.page import Bullets, Code, Heading, Image, Page, Paragraph, Table, markdown, to_html
from concord.reports.table import CellTable, page_table
from concord.reports.waits import waits_blocks


def build_page(document: dict[str, Any], *, charts: bool = True, chart_name: str = "chart.png") -> Page:
    """The page for ``document``; with ``charts`` the chart (needs the plot extra)."""
    params = document.get("parameters", {})
    kind = document.get("kind", "race")
    page = Page(f"concord {kind}: {params.get('scenario', '?')}")
    page.blocks.append(Paragraph(summary(document)))
    if document.get("error"):
        page.blocks.append(Paragraph(f"Error: {document['error']}"))
    page.blocks += [Heading("Verdicts"), Bullets(verdicts(document))]
    if charts:
        from concord.plot import figure_png

        page.blocks += [
            Heading("Charts"),
            Image(
                chart_name,
                figure_png(document),
                "throughput, latency, conflicts and violations against workers",
            ),
        ]
    page.blocks += [
        Heading("Cells"),
        Paragraph(cells_note(document)),
        page_table(CellTable.of(REPORT, document.get("cells", []))),
        *waits_blocks(document),
    ]
    page.blocks += [Heading("Parameters"), Table(("parameter", "value"), parameter_rows(params))]
    settings = document.get("database", {}).get("settings", {})
    page.blocks += [Heading("Database settings"), Table(("setting", "value"), sorted(settings.items()))]
    page.blocks += [Heading("Reproduce"), Code(reproduce_command(document))]
    return page


def summary(document: dict[str, Any]) -> str:
    params = document.get("parameters", {})
    cells = document.get("cells", [])
    parts = [
        f"Started {document.get('started_at', '?')} on PostgreSQL "
        f"{document.get('database', {}).get('server_version', '?')}",
        f"executor {params.get('executor', '?')}",
        per_cell_unit(params),
    ]
    if document.get("kind") == "sweep":
        parts.append(
            f"{count(params.get('repeats') or 1, 'run')} per cell ({params.get('order', 'in order')})"
        )
    text = ", ".join(parts) + f"; {len(cells)} cells."
    if cells:
        text += f" Invariant: {cells[0].get('invariant', '?')}."
    if document.get("interrupted"):
        text += " Interrupted: partial results."
    return text


def cells_note(document: dict[str, Any]) -> str:
    if document.get("kind") == "sweep":
        text = (
            "Commits/s and latencies are the medians of the runs, with their min-max in brackets; "
            "commits, retries, give-ups, conflicts and violations are totals over the runs."
        )
        noise = typical_spread(document)
        if noise is not None:
            text += (
                f" Runs of the same cell differed by {noise:.0f}% of the median throughput (the median "
                "over the cells of (max - min) / median): smaller differences between cells are noise."
            )
        return text
    return "One run per cell: no run-to-run spread is known."


def typical_spread(document: dict[str, Any]) -> float | None:
    """The median over the cells of the throughput range relative to the median, in percent."""
    import statistics

    ratios = []
    for cell in document.get("cells", []):
        spread = (cell.get("spread") or {}).get("throughput") or {}
        if len(spread.get("values", [])) > 1 and spread.get("median"):
            ratios.append((spread["max"] - spread["min"]) / spread["median"] * 100)
    return statistics.median(ratios) if ratios else None


def verdicts(document: dict[str, Any]) -> list[str]:
    """The anomalies found, cell by cell, then the fastest cell without one at each worker count."""
    cells = document.get("cells", [])
    broken = [c for c in cells if c.get("violations") is None or c.get("violations")]
    items = [f"{label(c)}: {c.get('verdict', '')}" for c in broken]
    if not broken:
        items.append(f"No anomaly in any of the {len(cells)} cells.")
    for workers in sorted({c["workers"] for c in cells}):
        safe = [c for c in cells if c["workers"] == workers and c.get("violations") == 0]
        if safe:
            items.append(fastest_safe(safe, workers))
    return items


def fastest_safe(safe: list[dict[str, Any]], workers: int) -> str:
    """The cell with the highest median throughput, and whether its lead is larger than the spread."""
    best = max(safe, key=lambda c: c["throughput"] or 0)
    text = (
        f"Highest median without anomalies at {workers_text(workers)}: {best['strategy']}, "
        f"{best['isolation']} ({best['throughput']:,.0f} commits/s, "
        f"p99 {best['latency_ms'].get('p99') or 0:,.1f} ms)"
    )
    low = _range(best)[0]
    if low is None:
        return text + "; single runs, so the lead may be noise"
    close = [c for c in safe if c is not best and (_range(c)[1] or c["throughput"] or 0) >= low]
    if close:
        others = f"{len(close)} other cell{'s' if len(close) > 1 else ''}"
        return text + f"; the runs of {others} overlap its own, so the lead is within the spread"
    return text + "; ahead of every other cell beyond the spread"


def _range(cell: dict[str, Any]) -> tuple[float | None, float | None]:
    spread = (cell.get("spread") or {}).get("throughput") or {}
    if len(spread.get("values", [])) > 1:
        return spread.get("min"), spread.get("max")
    return None, None


def workers_text(workers: int) -> str:
    return f"{workers} worker{'s' if workers != 1 else ''}"


def label(cell: dict[str, Any]) -> str:
    return f"{cell['strategy']}, {cell['isolation']}, {workers_text(cell['workers'])}"


def parameter_rows(params: dict[str, Any]) -> list[tuple[str, ...]]:
    def text(value: Any) -> str:
        return ", ".join(map(str, value)) if isinstance(value, list) else str(value)

    return [(k, text(v)) for k, v in params.items() if v not in (None, "", {}, [])]


def reproduce_command(document: dict[str, Any]) -> str:
    params = document.get("parameters", {})
    verb = "sweep" if document.get("kind") == "sweep" else "race"
    words = [
        # a user's scenario is found again by what named it (its file, module or entry point)
        f"concord {verb} --scenario {params.get('scenario_source') or params.get('scenario')}",
        f"--strategy {','.join(params.get('strategies', []))}",
        f"--isolation '{','.join(params.get('isolations', []))}'",
        f"--workers {','.join(map(str, params.get('workers', [])))}",
        f"--executor {params.get('executor')}",
        f"--duration {params['duration_s']:g}" if params.get("duration_s") else f"--ops {params.get('ops')}",
    ]
    if verb == "sweep":
        words.append(f"--repeats {params.get('repeats')}")
    if params.get("waits") is False:
        words.append("--no-waits")
    return " ".join(words)


def write_report(document: dict[str, Any], path: str | Path) -> list[Path]:
    """Write the report page (``.md`` or ``.html``); return the files written.

    HTML embeds the chart; Markdown links ``<page stem>.png``, written next to it. Without
    matplotlib the page says how to get the charts and is written without them.
    """
    from concord.plot.figure import PlotExtraMissing

    path = Path(path)
    try:
        page = build_page(document, chart_name=f"{path.stem}.png")
    except PlotExtraMissing as missing:
        page = build_page(document, charts=False)
        page.blocks.insert(1, Paragraph(f"No charts: {missing.message}."))
    path.parent.mkdir(parents=True, exist_ok=True)
    written = [path]
    if path.suffix.lower() == ".html":
        path.write_text(to_html(page))
        return written
    for image in page.images():
        image_path = path.with_name(image.name)
        image_path.write_bytes(image.png)
        written.append(image_path)
    path.write_text(markdown(page))
    return written
