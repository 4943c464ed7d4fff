"""Routes for tasks (optimistic PATCH, locked assign, move) and users."""

from __future__ import annotations

from enum import StrEnum

from fastapi import APIRouter, Header, HTTPException, Query, Response, status

from concord.api.deps import Db, Write
from concord.api.schemas import AssignIn, MoveIn, TaskIn, TaskOut, TaskPatch, UserIn, UserOut
from concord.locking import STRATEGIES
from concord.services import tasks, users

router = APIRouter(tags=["tasks"])
# Members follow the strategy registry, so mypy cannot list them: they are looked up by name below.
StrategyName = StrEnum("StrategyName", {name: name for name in STRATEGIES})  # type: ignore[misc]


@router.get("/lists/{list_id}/tasks", response_model=list[TaskOut])
def list_tasks(list_id: int, db: Db):
    return db.transact(tasks.tasks_in_list, list_id)


@router.post("/lists/{list_id}/tasks", status_code=status.HTTP_201_CREATED, response_model=TaskOut)
def create_task(list_id: int, body: TaskIn, write: Write):
    return write(
        tasks.create_task,
        list_id,
        body.title,
        description=body.description,
        status=body.status,
        points=body.points,
        assignee=body.assignee,
        position=body.position,
    )


@router.get("/tasks/{task_id}", response_model=TaskOut)
def get_task(task_id: int, db: Db, response: Response):
    task = db.transact(tasks.get_task, task_id)
    response.headers["ETag"] = etag(task.version)
    return task


@router.patch(
    "/tasks/{task_id}",
    response_model=TaskOut,
    responses={428: {"description": "No version given (body `version` or If-Match)"}},
)
def update_task(
    task_id: int,
    body: TaskPatch,
    write: Write,
    response: Response,
    if_match: str | None = Header(default=None),
):
    """Optimistic update: send the version you read; a stale one gets 409 with the current version.
    `If-Match: *` writes whatever the version (last writer wins)."""
    version = body.version if body.version is not None else version_from_etag(if_match)
    task = write(
        tasks.update_task,
        task_id,
        expected_version=version,
        title=body.title,
        description=body.description,
        status=body.status,
        points=body.points,
    )
    response.headers["ETag"] = etag(task.version)
    return task


@router.post("/tasks/{task_id}/assign", response_model=TaskOut)
def assign_task(
    task_id: int,
    body: AssignIn,
    write: Write,
    strategy: StrategyName = Query(
        StrategyName["pessimistic"], description="Locking strategy that protects the assign."
    ),
):
    """Assign the task. By default concurrent requests are serialised on the task's row lock and
    exactly one wins; `nowait` answers a held lock at once (409, Retry-After); `none` shows the
    race the others prevent."""
    return write(tasks.assign_task, task_id, body.user, reassign=body.reassign, strategy=strategy.value)


@router.post("/tasks/{task_id}/move", response_model=TaskOut)
def move_task(task_id: int, body: MoveIn, write: Write):
    return write(
        tasks.move_task, task_id, body.list_id, position=body.position, expected_version=body.version
    )


@router.post("/users", status_code=status.HTTP_201_CREATED, response_model=UserOut, tags=["users"])
def create_user(body: UserIn, write: Write):
    return write(users.create_user, body.name)


@router.get("/users", response_model=list[UserOut], tags=["users"])
def list_users(db: Db):
    return db.transact(users.list_users)


def etag(version: int) -> str:
    return f'"{version}"'


def version_from_etag(if_match: str | None) -> int | None:
    """The version in an If-Match header (``"3"`` or ``W/"3"``); 428 when there is none.

    ``If-Match: *`` (any current version) is the explicit opt-out: the write is unconditional,
    last writer wins. It is there to show what the version check prevents.
    """
    if if_match is None:
        raise HTTPException(428, "send the version you read: `version` in the body or an If-Match header")
    if if_match.strip() == "*":
        return None
    raw = if_match.strip().removeprefix("W/").strip('"')
    if not raw.isdigit():
        raise HTTPException(400, f'If-Match must carry a task version such as "3", not {if_match!r}')
    return int(raw)
