"""Request and response bodies. Domain rules (lengths, ranges) are checked by the library, so
they are stated once, in `concord.validation`; these models only give shapes and types."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class BoardIn(BaseModel):
    name: str


class BoardOut(_Out):
    id: int
    name: str
    created_at: datetime


class ListIn(BaseModel):
    name: str
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
    title: str
    description: str = ""
    status: str = "todo"
    points: int = 0
    assignee: int | str | None = Field(default=None, description="User id or name.")
    position: int | None = None


class TaskPatch(BaseModel):
    version: int | None = Field(default=None, description="The version you read (or send If-Match).")
    title: str | None = None
    description: str | None = None
    status: str | None = None
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
    user: int | str = Field(description="User id or name.")
    reassign: bool = False


class MoveIn(BaseModel):
    list_id: int
    position: int | None = None
    version: int | None = None


class UserIn(BaseModel):
    name: str


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
