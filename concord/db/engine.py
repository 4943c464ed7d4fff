"""Engines and isolation levels.

The isolation level is chosen where a connection or session is made (see
`concord.uow.UnitOfWork`), never with a SET inside a repository.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy import URL

from concord.db.urls import normalize_url
from concord.errors import InvalidInput

CONNECT_TIMEOUT_S = 10


class Isolation(StrEnum):
    """The isolation levels PostgreSQL distinguishes, named as SQL names them."""

    READ_COMMITTED = "read committed"
    REPEATABLE_READ = "repeatable read"
    SERIALIZABLE = "serializable"

    @property
    def sqlalchemy_name(self) -> str:
        """The value SQLAlchemy's ``isolation_level`` execution option takes."""
        return self.value.upper()

    @classmethod
    def parse(cls, name: str | Isolation) -> Isolation:
        """Accept 'serializable', 'repeatable-read', 'READ_COMMITTED', 'rc', 'rr', 'ser'."""
        if isinstance(name, Isolation):
            return name
        key = " ".join(name.strip().lower().replace("-", " ").replace("_", " ").split())
        found = _ALIASES.get(key)
        if found is None:
            choices = ", ".join(level.value for level in cls)
            raise InvalidInput(f"unknown isolation level {name!r}: choose one of {choices}")
        return found


_ALIASES: dict[str, Isolation] = {
    **{level.value: level for level in Isolation},
    "rc": Isolation.READ_COMMITTED,
    "rr": Isolation.REPEATABLE_READ,
    "ser": Isolation.SERIALIZABLE,
    "snapshot": Isolation.REPEATABLE_READ,
}


def create_engine(url: str | URL, **kwargs: Any) -> sa.Engine:
    """An engine on psycopg 3 with pre-ping, so a restarted server costs one failed checkout at most.

    Keyword arguments go to `sqlalchemy.create_engine` (for example ``poolclass`` or ``pool_size``).
    """
    kwargs.setdefault("pool_pre_ping", True)
    # Fail in seconds, not minutes, when the host does not answer (a firewall drops packets).
    connect_args = kwargs.setdefault("connect_args", {})
    connect_args.setdefault("connect_timeout", CONNECT_TIMEOUT_S)
    return sa.create_engine(normalize_url(url), **kwargs)
