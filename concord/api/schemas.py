"""Request and response bodies. Domain rules (lengths, ranges) are checked by the library, so
they are stated once, in `concord.validation`; these models only give shapes and types."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field


def _unicode_text(value: str) -> str:
    # JSON may carry a lone UTF-16 surrogate ("\ud800"): Python decodes it into a str that no
    # encoding can write, so PostgreSQL would never see it; refuse it here as invalid input.
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"text is not valid Unicode: a lone surrogate at position {exc.start}") from None
    return value


#: A string field of a request body: any Unicode text, but no lone surrogates.
Text = Annotated[str, AfterValidator(_unicode_text)]


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class BoardIn(BaseModel):
    name: Text


class BoardOut(_Out):
    id: int
    name: str
    created_at: datetime


class ListIn(BaseModel):
    name: Text
    wip_limit: int | None = None
    position: int | None = None


class ListOut(_Out):
    id: int
    board_id: int
    name: str
    position: int
    wip_limit: int | None
    created_at: datetime


class TaskIn(BaseModel):
    title: Text
    description: Text = ""
    status: Text = "todo"
    points: int = 0
    assignee: int | Text | None = Field(default=None, description="User id or name.")
    position: int | None = None


class TaskPatch(BaseModel):
    version: int | None = Field(default=None, description="The version you read (or send If-Match).")
    title: Text | None = None
    description: Text | None = None
    status: Text | None = None
    points: int | None = None


class TaskOut(_Out):
    id: int
    list_id: int
    title: str
    description: str
    position: int
    status: str
    points: int
    assignee_id: int | None
    version: int
    created_at: datetime
    updated_at: datetime


class ListTreeOut(ListOut):
    tasks: list[TaskOut]


class BoardTreeOut(BoardOut):
    lists: list[ListTreeOut]


class AssignIn(BaseModel):
    user: int | Text = Field(description="User id or name.")
    reassign: bool = False


class MoveIn(BaseModel):
    list_id: int
    position: int | None = None
    version: int | None = None


class UserIn(BaseModel):
    name: Text


class UserOut(_Out):
    id: int
    name: str
    created_at: datetime


class ActivityOut(_Out):
    id: int
    board_id: int
    task_id: int | None
    action: str
    detail: dict[str, Any]
    created_at: datetime
