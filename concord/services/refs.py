"""Naming boards, lists and tasks as a person does: by id, or by name (a task by its title).

The use cases take ids; a command line names things. A `Named` reference is resolved to an id
in a read of its own, just before the use case runs:

    from concord.services import refs, tasks
    task_id = db.transact(refs.Named.task("Write the spec").resolve)
    db.transact(tasks.assign_task, task_id, "alice")

A reference made only of ASCII digits is an id, whatever else it could be (a board named
"2026" is named by its id). A name must pick out exactly one row: none is `NotFound`, several
are `AmbiguousName`, which lists their ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from concord import queries
from concord.errors import InvalidInput, NotFound
from concord.models import Board, Task, TaskList
from concord.uow import UnitOfWork

#: Ids shown when a name is ambiguous (the error is for a person, not a listing).
SHOWN_IDS = 5

_BY_NAME: dict[str, tuple[Any, Any, str]] = {
    # kind: (model, its name column, what the name is called)
    "board": (Board, Board.name, "named"),
    "list": (TaskList, TaskList.name, "named"),
    "task": (Task, Task.title, "titled"),
}


class AmbiguousName(InvalidInput):
    """A name shared by several rows, where one was meant."""


@dataclass(frozen=True)
class Named:
    """A board, list or task named by id or by name."""

    kind: str
    ref: int | str

    @classmethod
    def board(cls, ref: int | str) -> Named:
        return cls("board", ref)

    @classmethod
    def list(cls, ref: int | str) -> Named:
        return cls("list", ref)

    @classmethod
    def task(cls, ref: int | str) -> Named:
        return cls("task", ref)

    @property
    def id(self) -> int | None:
        """The id the reference spells out, or None when it is a name."""
        if isinstance(self.ref, int):
            return self.ref
        text = self.ref.strip()
        # isascii: str.isdigit() is also true for '²' and other digits int() refuses.
        return int(text) if text.isascii() and text.isdigit() else None

    def resolve(self, uow: UnitOfWork) -> int:
        """The id of the one row this reference names; `NotFound` or `AmbiguousName` otherwise."""
        if self.id is not None:
            return self.id  # the use case reports an id nobody has
        model, column, called = _BY_NAME[self.kind]
        name = str(self.ref).strip()  # names and titles are stored trimmed
        ids = list(uow.session.scalars(queries.ids_with_name(model.id, column, name, SHOWN_IDS + 1)))
        if not ids:
            raise NotFound(self.kind, repr(name))
        if len(ids) > 1:
            shown = ", ".join(map(str, ids[:SHOWN_IDS])) + (", ..." if len(ids) > SHOWN_IDS else "")
            raise AmbiguousName(
                f"more than one {self.kind} is {called} {name!r} (ids {shown}): name it by id"
            )
        return ids[0]
