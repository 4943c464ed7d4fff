"""One table model for the cells of a result, drawn by every face: Rich in the terminal
(`concord.cli.table`), Markdown and HTML on report pages (as a `page.Table` block), and CSV.

A `Column` says once what a column is: its key (the CSV header), the header people read, how a
cell's value is written for display and what raw value goes to CSV. A `CellTable` is columns and
rows of cell dictionaries (a race's `CellResult.to_dict()` or a sweep's cell with its ``spread``).
The displays drop an *optional* column no row fills (the waits column of a run without sampling);
CSV never does, so a file's header is the same whatever the run held.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import IO, Any

from concord.reports.page import Table, markdown_table

Cell = dict[str, Any]


@dataclass(frozen=True)
class Column:
    """One column: ``key`` names it (and heads it in CSV), ``header`` heads it on screen and page.

    ``value`` is the raw value (CSV; None when the cell has none), by default the cell's own
    ``key``; ``text`` writes it for people, by default from the value (``-`` for None, numbers
    with thousands separators). ``right`` aligns it right (numbers); ``style`` gives a Rich
    style per cell (verdict colours); ``wraps`` marks free text that may wrap (the other
    columns never break).
    """

    key: str
    header: str = ""
    value: Callable[[Cell], Any] | None = None
    text: Callable[[Cell], str] | None = None
    right: bool = False
    optional: bool = False
    wraps: bool = False
    style: Callable[[Cell], str] | None = None

    def raw(self, cell: Cell) -> Any:
        return self.value(cell) if self.value is not None else cell.get(self.key)

    def shown(self, cell: Cell) -> str:
        return self.text(cell) if self.text is not None else plain(self.raw(cell))

    @property
    def title(self) -> str:
        return self.header or self.key

    def titled(self, header: str) -> Column:
        """The same column under another header (``commits/s (min-max)`` in a sweep's table)."""
        return replace(self, header=header)


def plain(value: Any) -> str:
    """A value for people: ``-`` for nothing, ``1,234`` for a count, ``12.3`` for a float."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.1f}"
    return str(value)


@dataclass(frozen=True)
class CellTable:
    """Columns over rows of cells; the renderers read it, nothing in it is formatted in advance."""

    columns: tuple[Column, ...]
    rows: list[Cell] = field(default_factory=list)

    @classmethod
    def of(cls, columns: Iterable[Column], cells: Iterable[Any]) -> CellTable:
        """The table of ``cells`` (`CellResult`s or dictionaries) under ``columns``."""
        return cls(tuple(columns), [c if isinstance(c, dict) else c.to_dict() for c in cells])

    def shown(self) -> CellTable:
        """Without the optional columns that no row fills: what a display draws."""
        kept = tuple(
            c for c in self.columns if not c.optional or any(c.raw(r) not in (None, "") for r in self.rows)
        )
        return replace(self, columns=kept)

    def without(self, *keys: str) -> CellTable:
        """Without the named columns (a narrow terminal says them under the table instead)."""
        return replace(self, columns=tuple(c for c in self.columns if c.key not in keys))

    def header(self) -> tuple[str, ...]:
        return tuple(c.title for c in self.columns)

    def texts(self) -> list[tuple[str, ...]]:
        """Every row as display text, one string per column."""
        return [tuple(c.shown(row) for c in self.columns) for row in self.rows]

    def values(self) -> list[dict[str, Any]]:
        """Every row as raw values by column key: what CSV writes."""
        return [{c.key: c.raw(row) for c in self.columns} for row in self.rows]

    def right_aligned(self) -> frozenset[str]:
        """The headers of the columns holding numbers (right-aligned)."""
        return frozenset(c.title for c in self.columns if c.right)


def page_table(table: CellTable) -> Table:
    """The displayed table as a report page block (Markdown and HTML draw it, `reports.page`)."""
    shown = table.shown()
    return Table(shown.header(), shown.texts(), shown.right_aligned())


def markdown_lines(table: CellTable) -> list[str]:
    """The displayed table as Markdown lines (with the blank line after it)."""
    return markdown_table(page_table(table))


def write_csv(out: IO[str], table: CellTable) -> None:
    """Every column (optional ones too, so the header never changes) with raw values."""
    writer = csv.DictWriter(out, fieldnames=[c.key for c in table.columns])
    writer.writeheader()
    writer.writerows(table.values())


def columns_by_key(columns: Sequence[Column], keys: Iterable[str]) -> tuple[Column, ...]:
    """The named columns from a catalogue, in the order of ``keys``."""
    catalogue = {c.key: c for c in columns}
    return tuple(catalogue[k] for k in keys)
