"""How a route reaches the library: the app's `Concord` handle and the write helper."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Concatenate, ParamSpec, TypeVar

from fastapi import BackgroundTasks, Depends, Request

from concord.client import Concord
from concord.services.activity import record_entries
from concord.uow import UnitOfWork

P = ParamSpec("P")
R = TypeVar("R")


def get_db(request: Request) -> Concord:
    return request.app.state.db


Db = Annotated[Concord, Depends(get_db)]


class Writer:
    """Runs a use case in its own transaction; its activity log is written after the response."""

    def __init__(self, db: Db, background: BackgroundTasks) -> None:
        self.db = db
        self.background = background

    def __call__(
        self, operation: Callable[Concatenate[UnitOfWork, P], R], /, *args: P.args, **kwargs: P.kwargs
    ) -> R:
        with self.db.unit_of_work(defer_activity=True) as uow:
            result = operation(uow, *args, **kwargs)
            uow.commit()
            entries = uow.deferred_entries()
        if entries:
            self.background.add_task(self.db.transact, record_entries, entries)
        return result


Write = Annotated[Writer, Depends()]
