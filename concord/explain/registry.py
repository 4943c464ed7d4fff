"""The named queries: every statement the library issues that `concord explain` can plan.

Each entry makes its statement from the library's own code, never from a copy of its SQL:

- `builder` entries call a function of `concord.queries` (what the repositories execute);
- `lock` entries take each locking strategy's lock statement from `concord.locking`, and the
  claim-next query of the skip-locked strategy;
- `captured` entries run a repository method and take the n-th statement it sent: the three
  selectin loads behind the board tree, the compare-and-set UPDATE of a task write, the DELETE.

Adding a query is one line in `_entries`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from concord import queries
from concord.errors import ConcordError, InvalidInput
from concord.explain.errors import ExplainUsageError
from concord.explain.statements import Statement, bind_names, capture, compile_statement
from concord.repositories import BoardRepository, TaskRepository

Make = Callable[[sa.Connection, Mapping[str, Any]], Statement]


@dataclass(frozen=True)
class NamedQuery:
    """A statement the library issues, with the parameters it needs."""

    name: str
    description: str
    params: tuple[str, ...]
    make: Make
    #: Reads every row of a small table on purpose (a full listing): no index is expected.
    full_listing: bool = False

    def statement(self, connection: sa.Connection, values: Mapping[str, Any]) -> Statement:
        return self.make(connection, values)


def builder(
    name: str,
    fn: Callable[..., sa.ClauseElement],
    params: tuple[str, ...] = (),
    *,
    description: str | None = None,
    full_listing: bool = False,
) -> NamedQuery:
    """A `concord.queries` builder, called with the parameter values in order."""

    def make(connection: sa.Connection, values: Mapping[str, Any]) -> Statement:
        return compile_statement(fn(*(values[p] for p in params)), connection.dialect)

    return NamedQuery(
        name, description or _first_line(fn.__doc__) or f"queries.{fn.__name__}", params, make, full_listing
    )


def bound(
    name: str, statement: sa.ClauseElement, description: str, aliases: Mapping[str, str] | None = None
) -> NamedQuery:
    """A statement with named binds (a lock statement): ``:id`` etc. take the parameter values.

    ``aliases`` maps a bind name to the parameter that supplies it (``id`` of a task: ``task_id``).
    """
    aliases = dict(aliases or {})
    binds = bind_names(statement)
    params = tuple(aliases.get(b, b) for b in binds)

    def make(connection: sa.Connection, values: Mapping[str, Any]) -> Statement:
        return compile_statement(statement, connection.dialect, {b: values[aliases.get(b, b)] for b in binds})

    return NamedQuery(name, description, params, make)


def captured(
    name: str,
    description: str,
    params: tuple[str, ...],
    call: Callable[[Session, Mapping[str, Any]], object],
    index: int,
) -> NamedQuery:
    """The ``index``-th statement (from 0) a library call sends."""

    def make(connection: sa.Connection, values: Mapping[str, Any]) -> Statement:
        shown = ", ".join(f"{k}={v!r}" for k, v in values.items())
        try:
            sent = capture(connection, lambda session: call(session, values), index)
        except ConcordError as exc:  # the call stopped early: board 1 not found, say
            raise ExplainUsageError(
                f"{name}: with {shown} the library stops before this statement ({exc.message})"
            ) from exc
        if len(sent) <= index:
            raise ExplainUsageError(
                f"{name}: with {shown} the library sends no such statement "
                f"({len(sent)} sent); try other parameters"
            )
        return sent[index]

    return NamedQuery(name, description, params, make)


def _lock_entries() -> list[NamedQuery]:
    from concord.locking import lock_statements

    entries = []
    for strategy, statement in lock_statements().items():
        if statement is None:
            continue
        if strategy == "skip_locked":
            entries.append(
                bound(
                    "claim_next",
                    statement,
                    "skip_locked's lock statement: the first unassigned "
                    "task of a backlog list, FOR UPDATE SKIP LOCKED",
                )
            )
        else:
            entries.append(
                bound(
                    f"lock.{strategy}",
                    statement,
                    f"the {strategy} strategy's lock statement",
                    {"id": "task_id"},
                )
            )
    return entries


def _tree(session: Session, values: Mapping[str, Any]) -> object:
    return BoardRepository(session).tree(values["board_id"])


def _write(session: Session, values: Mapping[str, Any]) -> object:
    return TaskRepository(session).write(
        values["task_id"], {"status": "done"}, expected_version=values["expected_version"]
    )


def _delete(session: Session, values: Mapping[str, Any]) -> object:
    return TaskRepository(session).delete(values["task_id"])


def _make_room(session: Session, values: Mapping[str, Any]) -> object:
    # Position 0 of a list with tasks is taken, so the UPDATE that shifts the others is sent too.
    return TaskRepository(session).make_room(values["list_id"], 0)


def _entries() -> list[NamedQuery]:
    q = queries
    return [
        builder("board_by_id", q.board_by_id, ("board_id",), description="one board by id"),
        builder(
            "all_boards", q.all_boards, description="every board, by id (a full listing)", full_listing=True
        ),
        captured("board_tree.board", "board tree, 1 of 3: the board", ("board_id",), _tree, 0),
        captured(
            "board_tree.lists", "board tree, 2 of 3: its lists (selectin load)", ("board_id",), _tree, 1
        ),
        captured(
            "board_tree.tasks",
            "board tree, 3 of 3: their tasks in order, each with its assignee (selectin load)",
            ("board_id",),
            _tree,
            2,
        ),
        builder("lists_of_board", q.lists_of_board, ("board_id",), description="a board's lists in order"),
        builder("list_by_id", q.list_by_id, ("list_id",), description="one list by id"),
        builder(
            "next_list_position",
            q.next_list_position,
            ("board_id",),
            description="the position after a board's last list",
        ),
        builder("task_by_id", q.task_by_id, ("task_id",), description="one task by id"),
        builder("task_version", q.task_version, ("task_id",), description="a task's current version"),
        builder("tasks_in_list", q.tasks_in_list, ("list_id",)),
        builder("tasks_by_assignee", q.tasks_by_assignee, ("user_id",)),
        builder("wip_count", q.wip_count, ("list_id",)),
        builder(
            "next_task_position",
            q.next_task_position,
            ("list_id",),
            description="the position after a list's last task",
        ),
        builder("user_by_id", q.user_by_id, ("user_id",), description="one user by id"),
        builder("user_by_name", q.user_by_name, ("name",), description="one user by name"),
        builder(
            "all_users", q.all_users, description="every user, by id (a full listing)", full_listing=True
        ),
        builder("activity_feed", q.activity_feed, ("board_id", "limit")),
        builder("task_for_update", q.task_for_update, ("task_id",)),
        builder("list_for_update", q.list_for_update, ("list_id",)),
        captured(
            "task_write",
            "TaskRepository.write: the compare-and-set UPDATE ... RETURNING",
            ("task_id", "expected_version"),
            _write,
            0,
        ),
        captured("task_delete", "TaskRepository.delete: the DELETE of one task", ("task_id",), _delete, 1),
        captured(
            "position_taken",
            "TaskRepository.make_room: is a position of the list taken?",
            ("list_id",),
            _make_room,
            0,
        ),
        captured(
            "make_room",
            "TaskRepository.make_room: shift the tasks at and below a position down one",
            ("list_id",),
            _make_room,
            1,
        ),
        *_lock_entries(),
    ]


def registry() -> dict[str, NamedQuery]:
    """Every named query by name, in listing order (built on call: nothing runs at import)."""
    return {entry.name: entry for entry in _entries()}


def get(name: str) -> NamedQuery:
    """The named query ``name``, or `InvalidInput` listing the known names."""
    found = registry()
    if name not in found:
        raise InvalidInput(f"unknown query {name!r}: run `concord explain` to list them")
    return found[name]


def _first_line(doc: str | None) -> str:
    return doc.strip().splitlines()[0].rstrip(".") if doc else ""
