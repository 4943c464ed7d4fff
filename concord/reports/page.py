"""A report page as plain blocks, written out as Markdown or as one self-contained HTML file.

Markdown links its images (the caller writes the PNG next to the page: GitHub and most review
tools render a relative image but strip ``data:`` URIs); HTML embeds them as base64, so the one
file is the whole report.
"""

from __future__ import annotations

import base64
import html
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
            out += _markdown_table(block)
        elif isinstance(block, Image):
            out += [f"![{block.alt}]({block.name})", ""]
    return "\n".join(out)


def _markdown_table(table: Table) -> list[str]:
    def cells(values) -> str:
        return "| " + " | ".join(str(v).replace("|", "\\|") for v in values) + " |"

    rule = "|" + "|".join("---:" if h in table.numeric else "---" for h in table.header) + "|"
    return [cells(table.header), rule, *(cells(row) for row in table.rows), ""]


STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1200px; color: #222; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; font-size: 0.9rem; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25rem 0.6rem; text-align: left; vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
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


def _html_table(table: Table) -> str:
    def cls(name: str) -> str:
        return ' class="num"' if name in table.numeric else ""

    head = "".join(f"<th{cls(h)}>{html.escape(h)}</th>" for h in table.header)
    rows = "".join(
        "<tr>"
        + "".join(f"<td{cls(h)}>{html.escape(str(v))}</td>" for h, v in zip(table.header, row, strict=True))
        + "</tr>"
        for row in table.rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
