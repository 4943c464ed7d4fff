"""A report page as plain blocks, written out as Markdown or as one self-contained HTML file.

Markdown links its images (the caller writes the PNG next to the page: GitHub and most review
tools render a relative image but strip ``data:`` URIs); HTML embeds them as base64, so the one
file is the whole report.
"""

from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 2


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class Code:
    """A command line, shown verbatim."""

    text: str


@dataclass(frozen=True)
class Bullets:
    items: list[str]


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: list[tuple[str, ...]]
    numeric: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Image:
    """A chart: its PNG bytes, and the file name it gets next to a Markdown page."""

    name: str
    png: bytes
    alt: str


@dataclass
class Page:
    title: str
    blocks: list[Heading | Paragraph | Code | Bullets | Table | Image] = field(default_factory=list)

    def images(self) -> list[Image]:
        return [b for b in self.blocks if isinstance(b, Image)]


def markdown(page: Page) -> str:
    """The page as Markdown; images are linked by their `Image.name` (write them next to it)."""
    out = [f"# {page.title}", ""]
    for block in page.blocks:
        if isinstance(block, Heading):
            out += [f"{'#' * block.level} {block.text}", ""]
        elif isinstance(block, Paragraph):
            out += [block.text, ""]
        elif isinstance(block, Code):
            out += ["```sh", block.text, "```", ""]
        elif isinstance(block, Bullets):
            out += [*(f"- {item}" for item in block.items), ""]
        elif isinstance(block, Table):
            out += markdown_table(block)
        elif isinstance(block, Image):
            out += [f"![{block.alt}]({block.name})", ""]
    return "\n".join(out)


def markdown_table(table: Table) -> list[str]:
    """A table block as Markdown lines, numbers right-aligned, and the blank line after it."""

    def cells(values) -> str:
        return "| " + " | ".join(str(v).replace("|", "\\|") for v in values) + " |"

    rule = "|" + "|".join("---:" if h in table.numeric else "---" for h in table.header) + "|"
    return [cells(table.header), rule, *(cells(row) for row in table.rows), ""]


# Numbers never break inside (a range "1,984 (1,396-2,291)" stays on one line); a table wider than
# the window scrolls inside its own box, and a long command wraps, so the page never scrolls sideways.
STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; padding: 0 1rem; max-width: 1200px;
       color: #222; }
.table { overflow-x: auto; margin: 0.5rem 0 1.5rem; }
table { border-collapse: collapse; font-size: 0.9rem; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25rem 0.6rem; text-align: left; vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td .range { display: block; font-size: 0.8em; color: #777; }
td:last-child { min-width: 16rem; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; background: #f6f6f6; padding: 0.5rem 0.75rem; }
img { max-width: 100%; }
"""


def to_html(page: Page) -> str:
    """The page as one HTML document, images embedded as base64 PNG."""
    esc = html.escape
    body = [f"<h1>{esc(page.title)}</h1>"]
    for block in page.blocks:
        if isinstance(block, Heading):
            body.append(f"<h{block.level}>{esc(block.text)}</h{block.level}>")
        elif isinstance(block, Paragraph):
            body.append(f"<p>{esc(block.text)}</p>")
        elif isinstance(block, Code):
            body.append(f"<pre><code>{esc(block.text)}</code></pre>")
        elif isinstance(block, Bullets):
            body.append("<ul>" + "".join(f"<li>{esc(i)}</li>" for i in block.items) + "</ul>")
        elif isinstance(block, Table):
            body.append(_html_table(block))
        elif isinstance(block, Image):
            data = base64.b64encode(block.png).decode("ascii")
            body.append(f'<img alt="{esc(block.alt)}" src="data:image/png;base64,{data}">')
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{esc(page.title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )


#: A number followed by the min-max of its runs, as `concord.reports.cells.with_range` writes it.
RANGED = re.compile(r"(\S+) (\(\S+-\S+\))")


def _html_table(table: Table) -> str:
    def cls(name: str) -> str:
        return ' class="num"' if name in table.numeric else ""

    def cell(name: str, value: object) -> str:
        text = html.escape(str(value))
        ranged = RANGED.fullmatch(text) if name in table.numeric else None
        if ranged:  # the median on its line, the runs' min-max small below it: a narrower column
            text = f'{ranged[1]}<span class="range">{ranged[2]}</span>'
        return f"<td{cls(name)}>{text}</td>"

    head = "".join(f"<th{cls(h)}>{html.escape(h)}</th>" for h in table.header)
    rows = "".join(
        "<tr>" + "".join(cell(h, v) for h, v in zip(table.header, row, strict=True)) + "</tr>"
        for row in table.rows
    )
    return f'<div class="table"><table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>'
