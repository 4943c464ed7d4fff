"""The unit of work: one transaction, its isolation level, and the repositories that share it.

    with db.unit_of_work(isolation=Isolation.SERIALIZABLE) as uow:
        task = uow.tasks.get(42)
        ...
        uow.commit()

Leaving the block without `commit()` rolls back. Driver errors leaving the block (or raised by
`commit()`) are translated to concord's typed errors here, at this one boundary.
"""

from __future__ import annotations

from types import TracebackType

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from concord.db.engine import Isolation
from concord.errors import translate
from concord.repositories import (
    ActivityEntry,
    ActivityLog,
    ActivityRepository,
    BoardRepository,
    DeferredActivity,
    ListRepository,
    TaskRepository,
    UserRepository,
)


class UnitOfWork:
    """A transaction at a chosen isolation level with the board's repositories bound to it."""

    boards: BoardRepository
    lists: ListRepository
    tasks: TaskRepository
    users: UserRepository
    activity: ActivityLog

    def __init__(
        self,
        engine: sa.Engine,
        *,
        isolation: Isolation | str = Isolation.READ_COMMITTED,
        defer_activity: bool = False,
    ) -> None:
        self.engine = engine
        self.isolation = Isolation.parse(isolation)
        self.defer_activity = defer_activity
        self._session: Session | None = None
        self._committed = False

    @property
    def session(self) -> Session:
        """The SQLAlchemy session of this unit of work (only inside the ``with`` block)."""
        if self._session is None:
            raise RuntimeError("the unit of work is not open: use it in a `with` block")
        return self._session

    def __enter__(self) -> UnitOfWork:
        session = Session(self.engine, expire_on_commit=False)
        try:
            # The isolation level must be set before the session's first statement, or SQLAlchemy
            # ignores it with only a warning.
            session.connection(execution_options={"isolation_level": self.isolation.sqlalchemy_name})
        except DBAPIError as exc:
            session.close()
            raise translate(exc) from exc
        self._session = session
        self._committed = False
        self.boards = BoardRepository(session)
        self.lists = ListRepository(session)
        self.tasks = TaskRepository(session)
        self.users = UserRepository(session)
        # Deferred: entries are only collected, for the caller to write after its response
        # (the HTTP shim does this as background work); otherwise they join this transaction.
        self.activity = DeferredActivity(session) if self.defer_activity else ActivityRepository(session)
        return self

    def deferred_entries(self) -> list[ActivityEntry]:
        """The activity entries this unit of work collected instead of writing (``defer_activity``)."""
        return list(self.activity.entries) if isinstance(self.activity, DeferredActivity) else []

    def commit(self) -> None:
        """Commit the transaction; serialization failures surface here too."""
        try:
            self.session.commit()
        except DBAPIError as exc:
            raise translate(exc) from exc
        self._committed = True

    def rollback(self) -> None:
        self.session.rollback()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        session, self._session = self.session, None
        try:
            if not self._committed:
                session.rollback()
        except DBAPIError:
            pass  # the connection is gone; closing below discards it
        finally:
            session.close()
        if isinstance(exc, DBAPIError):
            translated = translate(exc)
            if translated is not exc:
                raise translated from exc
