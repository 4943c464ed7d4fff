"""Users."""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert

from concord import queries
from concord.models import User
from concord.repositories.base import Repository


class UserRepository(Repository):
    def add(self, name: str) -> User | None:
        """Insert a user; None when the name is taken.

        The unique index decides (``INSERT ... ON CONFLICT (name) DO NOTHING``): of two concurrent
        adds of one name, the second waits for the first to commit and then gets None, never a
        raw unique-violation error.
        """
        statement = (
            insert(User).values(name=name).on_conflict_do_nothing(index_elements=[User.name]).returning(User)
        )
        return self.session.scalars(statement).first()

    def get(self, user_id: int) -> User:
        return self._one(queries.user_by_id(user_id), "user", user_id)

    def by_name(self, name: str) -> User:
        return self._one(queries.user_by_name(name), "user", repr(name))

    def resolve(self, ref: int | str) -> User:
        """A user by id (an int or a string of ASCII digits) or else by name."""
        # isascii: str.isdigit() is also true for '²' and other non-ASCII digits, which int() refuses.
        if isinstance(ref, int):
            return self.get(ref)
        ref = ref.strip()  # names are stored trimmed
        if ref.isascii() and ref.isdigit():
            return self.get(int(ref))
        return self.by_name(ref)

    def all(self) -> list[User]:
        return list(self.session.scalars(queries.all_users()))

    def exists(self, name: str) -> bool:
        return self.session.scalars(queries.user_by_name(name)).first() is not None
