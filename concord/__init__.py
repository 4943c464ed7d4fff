"""concord: a concurrency lab for PostgreSQL over a real task-board library.

Public API:

- `connect()` returns a `Concord` handle (`unit_of_work()`, `transact()`).
- `Isolation` names the isolation levels.
- `concord.models` holds the tables, `concord.services` the use cases, `concord.errors` the
  typed errors (also re-exported here).
"""

import lazy_loader

from concord.errors import (
    AlreadyAssigned,
    ConcordError,
    Conflict,
    DatabaseUnavailable,
    Deadlock,
    InvalidInput,
    LockNotAvailable,
    LockTimeout,
    NotFound,
    NotMigrated,
    QueryCanceled,
    SerializationFailure,
    StaleVersion,
    StatementTimeout,
    UniqueViolation,
    WipLimitExceeded,
)

__version__ = "0.1.0"

# The handle, the isolation levels and the unit of work load SQLAlchemy: they are imported on first
# use, so `import concord` (and every `concord.*` module, a racing worker process's included)
# pays for nothing it does not use.
__getattr__, _, _ = lazy_loader.attach(
    __name__,
    submod_attrs={"client": ["Concord", "connect"], "db.engine": ["Isolation"], "uow": ["UnitOfWork"]},
)

__all__ = [
    "AlreadyAssigned",
    "Concord",
    "ConcordError",
    "Conflict",
    "DatabaseUnavailable",
    "Deadlock",
    "InvalidInput",
    "Isolation",
    "LockNotAvailable",
    "LockTimeout",
    "NotFound",
    "NotMigrated",
    "QueryCanceled",
    "SerializationFailure",
    "StaleVersion",
    "StatementTimeout",
    "UniqueViolation",
    "UnitOfWork",
    "WipLimitExceeded",
    "__version__",
    "connect",
]


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
