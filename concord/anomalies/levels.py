"""The four isolation levels of the anomaly matrix, as SQL names them.

`concord.db.engine.Isolation` has the three levels PostgreSQL distinguishes. The matrix also has a
``read uncommitted`` column: PostgreSQL accepts that level and runs it as read committed, and the
point of the column is to show that on the server rather than to say it.
"""

from __future__ import annotations

from enum import StrEnum

from concord.db.engine import Isolation
from concord.errors import InvalidInput


class Level(StrEnum):
    """An isolation level requested with ``BEGIN ISOLATION LEVEL ...``."""

    READ_UNCOMMITTED = "read uncommitted"
    READ_COMMITTED = "read committed"
    REPEATABLE_READ = "repeatable read"
    SERIALIZABLE = "serializable"

    @property
    def sql(self) -> str:
        """The level as it appears after ``ISOLATION LEVEL``."""
        return self.value.upper()

    @classmethod
    def parse(cls, name: str | Level) -> Level:
        """Accept the SQL name in any case, with dashes or underscores, or rc/rr/ser/ru."""
        if isinstance(name, Level):
            return name
        key = " ".join(name.strip().lower().replace("-", " ").replace("_", " ").split())
        if key in ("ru", cls.READ_UNCOMMITTED.value):
            return cls.READ_UNCOMMITTED
        try:
            return cls(Isolation.parse(key).value)
        except InvalidInput:
            choices = ", ".join(level.value for level in cls)
            raise InvalidInput(f"unknown isolation level {name!r}: choose one of {choices}") from None
