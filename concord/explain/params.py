"""Parameters of the named queries, with defaults taken from the data in the database.

A default is a *typical* row, not an extreme one: the list holding the median number of tasks,
the user with the median number of assigned tasks, the board of that list. On a seeded database
that shows the plan most calls get; ``--param list_id=...`` shows any other row (the busiest
list, say). An empty database falls back to 1, which plans fine and finds nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from concord.explain.errors import ExplainUsageError
from concord.locking import advisory_key

FALLBACK = 1


@dataclass(frozen=True)
class Param:
    """One parameter: its name, what it means, its type and how its default is chosen."""

    name: str
    help: str
    type: type = int
    default_sql: str | None = None  # one value; may use :list_id, :user_id, :task_id of the defaults
    derive: Callable[[Mapping[str, Any]], Any] | None = None  # computed from other defaults

    def parse(self, raw: str) -> Any:
        if self.type is int:
            try:
                return int(raw)
            except ValueError:
                raise ExplainUsageError(f"parameter {self.name} takes an integer, not {raw!r}") from None
        return raw


_TYPICAL_LIST = """
    SELECT list_id FROM (SELECT list_id, count(*) AS n FROM tasks GROUP BY list_id) AS sizes
     ORDER BY n, list_id OFFSET (SELECT count(DISTINCT list_id) / 2 FROM tasks) LIMIT 1"""
_TYPICAL_USER = """
    SELECT assignee_id FROM (SELECT assignee_id, count(*) AS n FROM tasks WHERE assignee_id IS NOT NULL
                              GROUP BY assignee_id) AS loads
     ORDER BY n, assignee_id OFFSET (SELECT count(DISTINCT assignee_id) / 2 FROM tasks) LIMIT 1"""

PARAMS: dict[str, Param] = {
    p.name: p
    for p in (
        Param(
            "list_id",
            "a list (default: the list holding the median number of tasks)",
            default_sql=_TYPICAL_LIST,
        ),
        Param(
            "board_id",
            "a board (default: the board of the default list)",
            default_sql="SELECT board_id FROM task_lists WHERE id = :list_id",
        ),
        Param(
            "user_id",
            "an assignee (default: the user with the median number of tasks)",
            default_sql=_TYPICAL_USER,
        ),
        Param(
            "name",
            "a user name (default: the default user's)",
            type=str,
            default_sql="SELECT name FROM users WHERE id = :user_id",
        ),
        Param(
            "task_id",
            "a task (default: the first task of the default list)",
            default_sql="SELECT id FROM tasks WHERE list_id = :list_id ORDER BY position, id LIMIT 1",
        ),
        Param(
            "expected_version",
            "the version the writer read (default: the task's current version)",
            default_sql="SELECT version FROM tasks WHERE id = :task_id",
        ),
        Param("limit", "how many entries (default: 50, as the feed pages)", derive=lambda _: 50),
        Param(
            "key",
            "an advisory-lock key (default: the key of the default task)",
            derive=lambda found: advisory_key("tasks", found["task_id"]),
        ),
    )
}
ORDER = list(PARAMS)  # defaults are resolved in this order; each may use the ones before it


def resolve(connection: sa.Connection, names: list[str], given: Mapping[str, Any]) -> dict[str, Any]:
    """Values for ``names``: the given ones, the others from the data (see the module docstring)."""
    found: dict[str, Any] = {}
    needed = _with_dependencies(set(names) - set(given))
    for name in ORDER:
        if name in given:
            found[name] = given[name]
        elif name in needed:
            found[name] = _default(connection, PARAMS[name], found)
    return {name: found[name] for name in names}


def parse_assignments(pairs: list[str]) -> dict[str, Any]:
    """``["list_id=7", "name=ann"]`` -> ``{"list_id": 7, "name": "ann"}``; unknown names refused."""
    values: dict[str, Any] = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ExplainUsageError(f"--param takes name=value, not {pair!r}")
        if name not in PARAMS:
            raise ExplainUsageError(f"unknown parameter {name!r}: known are {', '.join(PARAMS)}")
        values[name] = PARAMS[name].parse(raw.strip())
    return values


def _default(connection: sa.Connection, param: Param, found: Mapping[str, Any]) -> Any:
    if param.derive is not None:
        return param.derive(found)
    assert param.default_sql is not None
    statement = sa.text(param.default_sql)
    binds = {name: found.get(name, FALLBACK) for name in statement.compile().params}
    value = connection.execute(statement, binds).scalar()
    if value is None:
        return FALLBACK if param.type is int else "nobody"
    return value


_DEPENDS = {
    "board_id": {"list_id"},
    "name": {"user_id"},
    "task_id": {"list_id"},
    "expected_version": {"task_id"},
    "key": {"task_id"},
}


def _with_dependencies(names: set[str]) -> set[str]:
    result = set(names)
    for name in names:
        result |= _with_dependencies(_DEPENDS.get(name, set()))
    return result
