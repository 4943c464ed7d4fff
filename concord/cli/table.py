"""The cell table model (`concord.reports.table`) drawn with Rich for the terminal."""

from __future__ import annotations

from rich import box
from rich.table import Table
from rich.text import Text

from concord.reports.table import CellTable


def rich_table(table: CellTable, *, title: str, numbered: bool = False) -> Table:
    """The displayed columns as a Rich table; with ``numbered`` a ``#`` column first (the lines
    under a narrow table and the ``--waits`` sections name cells by that number).

    Numbers never wrap; a free-text column (the verdict) takes the width left and wraps.
    """
    shown = table.shown()
    out = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    if numbered:
        out.add_column("#", justify="right", no_wrap=True)
    for column in shown.columns:
        if column.wraps:
            out.add_column(column.title, ratio=1)
        else:
            out.add_column(column.title, justify="right" if column.right else "left", no_wrap=True)
    for n, row in enumerate(shown.rows, 1):
        cells = [Text(c.shown(row), style=c.style(row)) if c.style else c.shown(row) for c in shown.columns]
        out.add_row(*([str(n)] if numbered else []), *cells)
    return out
