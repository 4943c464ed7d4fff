"""What every repository shares: a session and a get-or-NotFound."""

from __future__ import annotations

from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from concord.errors import NotFound
from concord.validation import is_id

T = TypeVar("T")


class Repository:
    """Base of the repositories: holds the unit of work's session."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def _one(self, statement: sa.Select, entity: str, key: Any) -> Any:
        if isinstance(key, int) and not is_id(key):
            raise NotFound(entity, key)  # no row has it; the server would refuse it as out of range
        found = self.session.scalars(statement.execution_options(populate_existing=True)).first()
        if found is None:
            raise NotFound(entity, key)
        return found
