"""Typed errors for everything a caller of concord must tell apart.

Driver errors are translated here, and only here, by SQLSTATE (`translate`, one table:
`_BY_SQLSTATE`). The unit of work calls it at its boundary; the command line and the HTTP shim map
these classes to exit codes and problem responses; the race's retry rules and result documents
name them by `kind_of` (each class's ``kind``), so a racing worker classifies a failed attempt by
the same table without building the error.
"""

from __future__ import annotations

from typing import Any


class ConcordError(Exception):
    """Base class of every error concord raises on purpose."""

    #: SQLSTATE of the server error behind this one, when there was one.
    sqlstate: str | None = None
    #: What a failed attempt of this class is called in race results (``conflicts``) and retry
    #: rules; "error" for everything no retry rule names.
    kind: str = "error"

    def __init__(self, message: str, *, sqlstate: str | None = None) -> None:
        super().__init__(message)
        if sqlstate is not None:
            self.sqlstate = sqlstate

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else type(self).__name__


class InvalidInput(ConcordError):
    """The caller asked for something malformed: an empty name, a negative position, a bad URL."""


class NotFound(ConcordError):
    """The entity named by id (or name) does not exist."""

    def __init__(self, entity: str, key: Any) -> None:
        super().__init__(f"{entity} {key} not found")
        self.entity = entity
        self.key = key


class Conflict(ConcordError):
    """The write lost against a concurrent one; retrying may succeed."""


class StaleVersion(Conflict):
    """An optimistic write named a version that is no longer current."""

    kind = "stale_version"

    def __init__(self, entity: str, key: Any, expected: int, current: int | None) -> None:
        now = (
            "it was deleted"
            if current is None
            else f"it is now at version {current}; read it again and retry with version {current}"
        )
        super().__init__(f"{entity} {key} changed since version {expected}: {now}")
        self.entity = entity
        self.key = key
        self.expected = expected
        self.current = current


class AlreadyAssigned(Conflict):
    """A task was claimed by someone else first."""


class WipLimitExceeded(Conflict):
    """Moving a task into a list would break the list's work-in-progress limit."""


class LockNotAvailable(Conflict):
    """A NOWAIT lock (or a lock_timeout, `LockTimeout`) found the lock held (SQLSTATE 55P03)."""

    sqlstate = "55P03"
    kind = "lock_not_available"


class LockTimeout(LockNotAvailable):
    """A lock wait ran past ``lock_timeout`` (SQLSTATE 55P03, raised by the server's interrupt
    handler rather than by a NOWAIT lock request)."""

    kind = "lock_timeout"


class SerializationFailure(Conflict):
    """The server aborted the transaction to keep it serializable (SQLSTATE 40001)."""

    sqlstate = "40001"
    kind = "serialization_failure"


class Deadlock(Conflict):
    """The server broke a lock cycle by aborting this transaction (SQLSTATE 40P01)."""

    sqlstate = "40P01"
    kind = "deadlock"


class UniqueViolation(Conflict):
    """A unique constraint refused the write (SQLSTATE 23505)."""

    sqlstate = "23505"
    kind = "unique_violation"


class QueryCanceled(ConcordError):
    """statement_timeout (`StatementTimeout`) or a cancel request stopped the statement
    (SQLSTATE 57014)."""

    sqlstate = "57014"
    kind = "query_canceled"


class StatementTimeout(QueryCanceled):
    """A statement ran past ``statement_timeout`` and the server cancelled it (SQLSTATE 57014)."""

    kind = "statement_timeout"


class DatabaseUnavailable(ConcordError):
    """The server could not be reached, refused the connection, or went away."""

    #: The driver's own first line, without concord's wording around it.
    detail: str | None = None

    @classmethod
    def at(cls, where: str, cause: BaseException) -> DatabaseUnavailable:
        """The error for a connection to ``where`` (a URL with its password masked) that failed."""
        detail = getattr(cause, "detail", None) or _first_line(getattr(cause, "orig", None) or cause)
        error = cls(
            f"cannot reach the database at {where}: {detail}; {_connection_hint(detail)}",
            sqlstate=getattr(cause, "sqlstate", None),
        )
        error.detail = detail
        return error


class NotMigrated(ConcordError):
    """The database schema is missing or behind the code's migrations."""


# SQLSTATE -> error class. Classes 08 (connection) and 57P0x (shutdown) mean the server went away.
_BY_SQLSTATE: dict[str, type[ConcordError]] = {
    "40001": SerializationFailure,
    "40P01": Deadlock,
    "55P03": LockNotAvailable,
    "57014": QueryCanceled,
    "23505": UniqueViolation,
    "57P01": DatabaseUnavailable,
    "57P02": DatabaseUnavailable,
    "57P03": DatabaseUnavailable,
}
_INVALID_INPUT_CLASSES = ("22", "23")  # data exceptions and integrity violations other than 23505
#: The backend routine that raises the timeouts: the server reports it in every error (libpq's
#: PG_DIAG_SOURCE_FUNCTION), untranslated, whatever lc_messages is.
_INTERRUPT_HANDLER = "ProcessInterrupts"


def error_class(exc: BaseException) -> type[ConcordError] | None:
    """The typed error a driver error stands for, by SQLSTATE; None when the table has none.

    Two SQLSTATEs carry two meanings each, told apart here and nowhere else:

    - 55P03: a NOWAIT request that found the lock held (raised where the lock is requested:
      ``heap_lock_tuple``, ``RangeVarGetRelidExtended``, ...) or a wait past ``lock_timeout``
      (raised by the interrupt handler, ``ProcessInterrupts``). The routine the server reports
      tells them apart in any language.
    - 57014: ``statement_timeout`` or a cancel request (``pg_cancel_backend``, a client's cancel).
      Both are raised by ``ProcessInterrupts`` with the same SQLSTATE and fields; only the message
      differs ("canceling statement due to statement timeout" / "... due to user request", and a
      line number that changes between releases). So the English message decides; a server with
      translated ``lc_messages`` reports both as `QueryCanceled`.
    """
    state = sqlstate_of(exc)
    found = _BY_SQLSTATE.get(state or "")
    if found is LockNotAvailable and _diagnostic(exc, "source_function") == _INTERRUPT_HANDLER:
        return LockTimeout
    message = _diagnostic(exc, "message_primary") or str(getattr(exc, "orig", exc))
    if found is QueryCanceled and "statement timeout" in message:
        return StatementTimeout
    return found


def kind_of(exc: BaseException) -> tuple[str, str | None]:
    """The kind of a failed attempt (a class's ``kind``, "error" when none) and its SQLSTATE.

    Cheaper than `translate` (no error is built): a racing worker calls it on every failure.
    """
    if isinstance(exc, ConcordError):
        return exc.kind, exc.sqlstate
    found = error_class(exc)
    return (found.kind if found is not None else "error"), sqlstate_of(exc)


def _diagnostic(exc: BaseException, field: str) -> str | None:
    """A field of the server's error report (psycopg's ``diag``), under SQLAlchemy's wrapper too."""
    diag = getattr(getattr(exc, "orig", exc), "diag", None)
    return getattr(diag, field, None) if diag is not None else None


def sqlstate_of(exc: BaseException) -> str | None:
    """The SQLSTATE carried by a SQLAlchemy or psycopg error, if any."""
    orig = getattr(exc, "orig", exc)
    return getattr(orig, "sqlstate", None)


def translate(exc: BaseException) -> BaseException:
    """Map a driver error to a typed concord error; anything unrecognised is returned as is."""
    if isinstance(exc, ConcordError):
        return exc
    state = sqlstate_of(exc)
    detail = _first_line(getattr(exc, "orig", None) or exc)
    found = error_class(exc)
    if found is not None:
        return found(detail, sqlstate=state)
    if state and state.startswith("08"):
        return DatabaseUnavailable(detail, sqlstate=state)
    if state and state[:2] in _INVALID_INPUT_CLASSES:
        return InvalidInput(detail, sqlstate=state)
    if state is None and _is_client_side_data_error(exc):
        return InvalidInput(detail)
    if state is None and _is_connection_failure(exc):
        error = DatabaseUnavailable(f"cannot reach the database: {detail}")
        error.detail = detail
        return error
    return exc


def _connection_hint(detail: str) -> str:
    """What to do about a failed connection, judged from the driver's message."""
    if "database" in detail and "does not exist" in detail:
        return "create that database, or check --database-url"
    if "authentication failed" in detail or "no password supplied" in detail:
        return "check the user and password in --database-url"
    return "is the server running? check --database-url"


def _is_client_side_data_error(exc: BaseException) -> bool:
    """psycopg refuses some values before sending them (a NUL byte in text, an int too big)."""
    import psycopg

    return isinstance(getattr(exc, "orig", exc), psycopg.DataError)


def _is_connection_failure(exc: BaseException) -> bool:
    import psycopg
    from sqlalchemy import exc as sa_exc

    orig = getattr(exc, "orig", exc)
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(orig, psycopg.OperationalError)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
