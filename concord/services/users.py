"""User use cases."""

from __future__ import annotations

from concord import validation
from concord.errors import InvalidInput, UniqueViolation
from concord.models import User
from concord.uow import UnitOfWork


def create_user(uow: UnitOfWork, name: str) -> User:
    clean = validation.name(name)
    if clean.isdigit():
        raise InvalidInput(
            f"a user name cannot be all digits ({clean!r} would read as a user id): add a letter"
        )
    user = uow.users.add(clean)
    if user is None:
        raise UniqueViolation(f"user {clean!r} already exists: choose another name")
    return user


def list_users(uow: UnitOfWork) -> list[User]:
    return uow.users.all()


def get_user(uow: UnitOfWork, ref: int | str) -> User:
    return uow.users.resolve(ref)
