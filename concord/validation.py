"""Checks on caller input, so bad values get a clear `InvalidInput` before any SQL runs.

The database enforces the same rules with CHECK constraints; these give the friendly message,
naming the problem and what to give instead.
"""

from __future__ import annotations

import unicodedata

from concord.errors import InvalidInput
from concord.models import NAME_MAX, TASK_STATUSES, TITLE_MAX

#: The largest value an INTEGER column (position, points, wip_limit, version) holds.
INT_MAX = 2**31 - 1
#: The largest value a BIGINT id holds; no row has an id outside 1..ID_MAX.
ID_MAX = 2**63 - 1


def name(value: str, *, field: str = "name", limit: int = NAME_MAX) -> str:
    """A trimmed, non-empty, single-line name of at most ``limit`` characters."""
    trimmed = (value or "").strip()
    if not trimmed:
        raise InvalidInput(f"{field} must not be empty: give 1 to {limit} characters")
    if len(trimmed) > limit:
        raise InvalidInput(f"{field} is {len(trimmed)} characters long: shorten it to at most {limit}")
    if any(unicodedata.category(ch) == "Cc" for ch in trimmed):
        raise InvalidInput(f"{field} contains a line break or control character: give one line of text")
    return trimmed


def title(value: str) -> str:
    return name(value, field="title", limit=TITLE_MAX)


def _integer(value: int, what: str, low: int, high: int = INT_MAX, *, extra: str = "") -> int:
    if not low <= value <= high:
        raise InvalidInput(f"{what} must be between {low} and {high}{extra}, not {value}")
    return value


def position(value: int | None) -> int | None:
    return None if value is None else _integer(value, "position", 0, extra=" (0 is the top)")


def wip_limit(value: int | None) -> int | None:
    return None if value is None else _integer(value, "wip limit", 1, extra=" (or none for no limit)")


def points(value: int) -> int:
    return _integer(value, "points", 0)


def status(value: str) -> str:
    if value not in TASK_STATUSES:
        raise InvalidInput(f"unknown status {value!r}: choose one of {', '.join(TASK_STATUSES)}")
    return value


def version(value: int | None) -> int | None:
    return None if value is None else _integer(value, "a version", 1, extra=" (versions start at 1)")


def is_id(value: object) -> bool:
    """True when ``value`` could be the id of a row (an int in 1..ID_MAX)."""
    return isinstance(value, int) and 1 <= value <= ID_MAX


def limit(value: int, *, maximum: int) -> int:
    if not 1 <= value <= maximum:
        raise InvalidInput(f"limit must be between 1 and {maximum}, not {value}")
    return value
