"""concord: a concurrency lab for PostgreSQL over a real task-board library.

Public API:

- `connect()` returns a `Concord` handle (`unit_of_work()`, `transact()`).
- `Isolation` names the isolation levels.
- `concord.models` holds the tables, `concord.services` the use cases, `concord.errors` the
  typed errors (also re-exported here).
"""

from concord.client import Concord, connect
from concord.db.engine import Isolation
from concord.errors import (
    AlreadyAssigned,
    ConcordError,
    Conflict,
    DatabaseUnavailable,
    Deadlock,
    InvalidInput,
    LockNotAvailable,
    NotFound,
    NotMigrated,
    QueryCanceled,
    SerializationFailure,
    StaleVersion,
    UniqueViolation,
    WipLimitExceeded,
)
from concord.uow import UnitOfWork

__version__ = "0.1.0"

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
    "NotFound",
    "NotMigrated",
    "QueryCanceled",
    "SerializationFailure",
    "StaleVersion",
    "UniqueViolation",
    "UnitOfWork",
    "WipLimitExceeded",
    "__version__",
    "connect",
]
