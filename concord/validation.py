"""Checks on caller input, so bad values get a clear `InvalidInput` before any SQL runs.

The database enforces the same rules with CHECK constraints; these give the friendly message.
"""

from __future__ import annotations

from concord.errors import InvalidInput
from concord.models import NAME_MAX, TASK_STATUSES, TITLE_MAX


def name(value: str, *, field: str = "name", limit: int = NAME_MAX) -> str:
    """A trimmed, non-empty name of at most ``limit`` characters."""
    trimmed = (value or "").strip()
    if not trimmed:
        raise InvalidInput(f"{field} must not be empty")
    if len(trimmed) > limit:
        raise InvalidInput(f"{field} is {len(trimmed)} characters long; the limit is {limit}")
    return trimmed


def title(value: str) -> str:
    return name(value, field="title", limit=TITLE_MAX)


def position(value: int | None) -> int | None:
    if value is not None and value < 0:
        raise InvalidInput(f"position must be 0 or more, not {value}")
    return value


def wip_limit(value: int | None) -> int | None:
    if value is not None and value < 1:
        raise InvalidInput(f"wip limit must be 1 or more, not {value}")
    return value


def points(value: int) -> int:
    if value < 0:
        raise InvalidInput(f"points must be 0 or more, not {value}")
    return value


def status(value: str) -> str:
    if value not in TASK_STATUSES:
        raise InvalidInput(f"unknown status {value!r}: choose one of {', '.join(TASK_STATUSES)}")
    return value


def version(value: int | None) -> int | None:
    if value is not None and value < 1:
        raise InvalidInput(f"a version is 1 or more, not {value}")
    return value


def limit(value: int, *, maximum: int) -> int:
    if not 1 <= value <= maximum:
        raise InvalidInput(f"limit must be between 1 and {maximum}, not {value}")
    return value
