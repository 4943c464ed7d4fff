"""How many of a thing, in words: ``count(1, "task")`` is "1 task", ``count(1200, "task")`` "1,200 tasks".

Every message that puts a number before a noun says it through `count`, so none reads "1 tasks".
"""

from __future__ import annotations


def count(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` with thousands separators and ``noun`` in the number it takes (``plural`` when it is
    not the noun plus "s")."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"
