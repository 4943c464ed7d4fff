"""The task board's tables as typed SQLAlchemy 2 models.

Constraint names follow one convention (see `NAMING_CONVENTION`), so migrations, error messages
and ERD.md all use the same names. Every CHECK constraint is named explicitly.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

NAME_MAX = 200
TITLE_MAX = 500
TASK_STATUSES = ("todo", "doing", "done")


def _name_check(column: str, limit: int) -> CheckConstraint:
    """Names are non-empty after trimming and at most `limit` characters."""
    return CheckConstraint(f"length(btrim({column})) BETWEEN 1 AND {limit}", name=f"{column}_not_blank")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    #: Every model here is a declarative table, so its ``__table__`` is a `Table`, not just the
    #: `FromClause` SQLAlchemy types it as (columns, ``update(...)`` and the like need a Table).
    __table__: ClassVar[Table]

    def as_dict(self) -> dict[str, Any]:
        """The row's columns as a JSON-ready dict (timestamps in ISO 8601)."""
        out: dict[str, Any] = {}
        for column in self.__table__.columns:
            value = getattr(self, column.key)
            out[column.key] = value.isoformat() if isinstance(value, datetime) else value
        return out


def _id() -> Mapped[int]:
    return mapped_column(BigInteger, Identity(always=False), primary_key=True)


def _created_at() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)


class User(Base):
    """Someone tasks can be assigned to. Names are unique: the CLI assigns by name."""

    __tablename__ = "users"
    __table_args__ = (_name_check("name", NAME_MAX),)

    id: Mapped[int] = _id()
    name: Mapped[str] = mapped_column(Text, nullable=False, unique=True)
    created_at: Mapped[datetime] = _created_at()


class Board(Base):
    """A board: an ordered set of lists."""

    __tablename__ = "boards"
    __table_args__ = (_name_check("name", NAME_MAX),)

    id: Mapped[int] = _id()
    name: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = _created_at()

    lists: Mapped[list[TaskList]] = relationship(
        back_populates="board", order_by="(TaskList.position, TaskList.id)", passive_deletes=True
    )


class TaskList(Base):
    """A column of a board, optionally with a work-in-progress limit on how many tasks it holds."""

    __tablename__ = "task_lists"
    __table_args__ = (
        _name_check("name", NAME_MAX),
        CheckConstraint("position >= 0", name="position_non_negative"),
        CheckConstraint("wip_limit IS NULL OR wip_limit > 0", name="wip_limit_positive"),
        Index(None, "board_id", "position"),
    )

    id: Mapped[int] = _id()
    # Deleting a board deletes its lists (and through them their tasks): a list has no meaning
    # outside its board.
    board_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("boards.id", ondelete="CASCADE"), nullable=False
    )
    name: Mapped[str] = mapped_column(Text, nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    wip_limit: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = _created_at()

    board: Mapped[Board] = relationship(back_populates="lists")
    tasks: Mapped[list[Task]] = relationship(
        back_populates="task_list", order_by="(Task.position, Task.id)", passive_deletes=True
    )


class Task(Base):
    """A card on a board. `version` starts at 1 and grows by one on every write to the row."""

    __tablename__ = "tasks"
    __table_args__ = (
        _name_check("title", TITLE_MAX),
        CheckConstraint("position >= 0", name="position_non_negative"),
        CheckConstraint("version > 0", name="version_positive"),
        CheckConstraint("points >= 0", name="points_non_negative"),
        CheckConstraint(f"status IN {TASK_STATUSES!r}", name="status_known"),
        # Tasks of a list in board order: the board tree, `task list`, the WIP count.
        Index(None, "list_id", "position", "id"),
        # Tasks by assignee ("my tasks"); also the index behind the users foreign key.
        Index(None, "assignee_id"),
        # The claim-next query: the first unassigned task of a backlog, in order. Partial, so it
        # stays small as tasks are claimed.
        Index(
            "ix_tasks_unassigned_list_id_position",
            "list_id",
            "position",
            "id",
            postgresql_where=text("assignee_id IS NULL"),
        ),
    )

    id: Mapped[int] = _id()
    # Deleting a list deletes its tasks: moving them somewhere is a decision for the caller.
    list_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("task_lists.id", ondelete="CASCADE"), nullable=False
    )
    title: Mapped[str] = mapped_column(Text, nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, server_default=text("''"))
    position: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    status: Mapped[str] = mapped_column(Text, nullable=False, server_default=text("'todo'"))
    points: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    # Deleting a user unassigns their tasks rather than deleting the work.
    assignee_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="SET NULL"))
    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("1"))
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _created_at()

    task_list: Mapped[TaskList] = relationship(back_populates="tasks")
    #: Loaded only where a query asks for it (the board tree joins it in); never lazily.
    assignee: Mapped[User | None] = relationship(lazy="raise")


class Activity(Base):
    """An append-only record of a write on a board."""

    __tablename__ = "activity"
    __table_args__ = (
        CheckConstraint("length(btrim(action)) > 0", name="action_not_blank"),
        # The activity feed: a board's newest entries first, paged by (created_at, id).
        Index(None, "board_id", "created_at", "id"),
        Index(None, "task_id"),
    )

    id: Mapped[int] = _id()
    # The feed belongs to its board and goes with it.
    board_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("boards.id", ondelete="CASCADE"), nullable=False
    )
    # History outlives the task it talks about: deleting a task keeps its entries, unlinked.
    task_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("tasks.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(Text, nullable=False)
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default=text("'{}'::jsonb"))
    created_at: Mapped[datetime] = _created_at()
