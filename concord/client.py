"""`connect()` and the `Concord` handle: the entry point of the library.

import concord
db = concord.connect()                      # the embedded server, migrated on first use
board = db.transact(concord.services.boards.create_board, "Roadmap")
with db.unit_of_work(isolation="serializable") as uow:
    ...
    uow.commit()
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

import sqlalchemy as sa
from sqlalchemy import URL
from sqlalchemy.exc import DBAPIError

from concord.db import admin, migrate
from concord.db.engine import Isolation, create_engine
from concord.db.urls import mask_url, resolve_url
from concord.errors import DatabaseUnavailable, NotMigrated, translate
from concord.uow import UnitOfWork

P = ParamSpec("P")
R = TypeVar("R")


class Concord:
    """A connection to one concord database: an engine and units of work over it."""

    def __init__(self, url: URL, engine: sa.Engine) -> None:
        self.url = url
        self.engine = engine

    @property
    def display_url(self) -> str:
        """The URL with its password masked."""
        return mask_url(self.url)

    def unit_of_work(
        self, isolation: Isolation | str = Isolation.READ_COMMITTED, *, defer_activity: bool = False
    ) -> UnitOfWork:
        """A new unit of work (one transaction) at the given isolation level.

        With ``defer_activity`` the activity log is collected (``uow.deferred_entries()``) instead
        of being written in the transaction (see `concord.services.activity.record_entries`).
        """
        return UnitOfWork(self.engine, isolation=isolation, defer_activity=defer_activity)

    def transact(
        self,
        operation: Callable[Concatenate[UnitOfWork, P], R],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> R:
        """Run ``operation(uow, *args, **kwargs)`` in its own read-committed transaction and commit it."""
        try:
            with self.unit_of_work() as uow:
                result = operation(uow, *args, **kwargs)
                uow.commit()
                return result
        except DatabaseUnavailable as exc:
            raise DatabaseUnavailable.at(self.display_url, exc) from exc  # say which server went away

    def server_version(self) -> str:
        """The PostgreSQL server's version, as ``SHOW server_version`` reports it."""
        try:
            with self.engine.connect() as conn:
                return str(conn.scalar(sa.text("SHOW server_version")))
        except DBAPIError as exc:
            raise translate(exc) from exc

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    def __enter__(self) -> Concord:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def connect(database_url: str | URL | None = None, *, ensure_schema: bool = True, **engine_kwargs) -> Concord:
    """Connect to PostgreSQL and return a `Concord` handle.

    ``database_url`` defaults to CONCORD_DATABASE_URL, and without it to concord's embedded server
    (started if needed). With ``ensure_schema`` a fresh database is migrated to head, and a
    database behind the code raises `NotMigrated`.
    """
    url = resolve_url(str(database_url) if isinstance(database_url, URL) else database_url)
    engine = create_engine(url, **engine_kwargs)
    if ensure_schema:
        try:
            migrate.ensure_schema(engine)
        except BaseException as exc:
            engine.dispose()
            error = first_contact_error(exc, url)
            if error is exc:
                raise
            raise error from exc
    return Concord(url, engine)


def first_contact_error(exc: BaseException, url: URL) -> BaseException:
    """The error to raise for a failed first contact: typed, and naming the (masked) URL."""
    error = translate(exc) if isinstance(exc, DBAPIError) else exc
    if isinstance(error, DatabaseUnavailable):
        return DatabaseUnavailable.at(mask_url(url), error)
    if isinstance(error, NotMigrated):
        return admin.explain_not_migrated(url) or error
    return error
