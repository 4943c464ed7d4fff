"""Result tables and messages laid out exactly as isolationtester prints them.

isolationtester prints result sets with libpq's PQprint (header, aligned, ``|`` between fields).
Its layout, carried over from libpq's fe-print.c:
- widths are in bytes, not characters (printf pads by bytes);
- a column is right-aligned ("numeric") unless one of its non-empty values has a character
  other than digits, ``.``, ``e``, ``E``, space or ``-``, starts with ``e``/``E``, or does not end
  in a digit; empty and NULL values decide nothing, so a column of only those is right-aligned;
- the header is aligned like its column, the rule is dashes joined by ``+``, every value
  (the last one too) is padded to the column's width, and ``(N rows)`` is followed by a blank line.
"""

from __future__ import annotations

from collections.abc import Sequence

_NUMERIC_CHARS = frozenset("0123456789.eE -")


def format_result(columns: Sequence[str], rows: Sequence[Sequence[str | None]]) -> str:
    """One result set as PQprint lays it out (nothing for a result without columns)."""
    if not columns:
        return ""
    widths = [_width(name) for name in columns]
    numeric = [True] * len(columns)
    for row in rows:
        for index, value in enumerate(row):
            if value:
                widths[index] = max(widths[index], _width(value))
                numeric[index] = numeric[index] and _looks_numeric(value)
    header = "|".join(
        _pad(name, width, right) for name, width, right in zip(columns, widths, numeric, strict=True)
    )
    lines = [header, "+".join("-" * width for width in widths)]
    for row in rows:
        cells = zip(row, widths, numeric, strict=True)
        lines.append("|".join(_pad(value or "", width, right) for value, width, right in cells))
    count = len(rows)
    lines.append(f"({count} row{'' if count == 1 else 's'})")
    return "\n".join(lines) + "\n\n"


def format_error(severity: str | None, primary: str | None, full_message: str) -> str:
    """An error result: ``SEVERITY:  primary message`` (details may hold XIDs, so they are left out)."""
    if severity and primary:
        return f"{severity}:  {primary}\n"
    return f"{full_message}\n"


def _looks_numeric(value: str) -> bool:
    if value[0] in "eE" or not value[-1].isascii() or not value[-1].isdigit():
        return False
    return all(char in _NUMERIC_CHARS for char in value)


def _width(text: str) -> int:
    return len(text.encode("utf-8", "surrogateescape"))


def _pad(text: str, width: int, right: bool) -> str:
    fill = " " * (width - _width(text))
    return fill + text if right else text + fill
