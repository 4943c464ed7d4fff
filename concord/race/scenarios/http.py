"""What every scenario's HTTP form shares: reading the API's answers, and making rows through it.

A race through HTTP (`concord.race.http`, the runner) sets up, races and checks a scenario all
through the API; each scenario that has an HTTP form keeps it beside its other halves, in
``scenarios/<name>/http.py`` (``assign``, ``counter``). An operation is an `Attempt`: an async
function run by the one race loop (`concord.race.loop`) like a direct race's transaction. It
returns an `Outcome` and raises what the API's answer means: a retryable 409 as a conflict of its
kind, anything unexpected as `Abandoned`.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from concord.errors import ConcordError, Conflict
from concord.race.loop import Abandoned
from concord.race.steps import Outcome

#: One attempt of an operation through HTTP: given the worker's status counter, its outcome (a
#: conflict, a decline or an unexpected answer raises, see `answered`).
Attempt = Callable[[Counter[str]], Awaitable[Outcome]]

DEFAULT_TASKS = 100
# 409 problem types worth another try, and the conflict kind each counts as.
RETRYABLE = {
    "/problems/lock-not-available": "lock_not_available",
    "/problems/stale-version": "stale_version",
    "/problems/serialization-failure": "serialization_failure",
    "/problems/deadlock": "deadlock",
}
DECLINED = "/problems/already-assigned"


class ConflictThroughHttp(Conflict):
    """A 409 the API answers for a conflict worth another try; its kind is the problem's."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def answered(response, statuses: Counter[str]) -> None:
    """Count the response's status; raise when it is not a 200: `ConflictThroughHttp` for a
    retryable 409, `Declined` for a task someone else won, `Abandoned` for anything else (the
    race goes on, the error is reported)."""
    statuses[str(response.status_code)] += 1
    if response.status_code == 200:
        return
    problem = _problem_type(response)
    if response.status_code == 409 and problem == DECLINED:
        raise Declined
    if response.status_code == 409 and problem in RETRYABLE:
        raise ConflictThroughHttp(RETRYABLE[problem], f"409 {problem}")
    raise Abandoned(f"{response.status_code} {problem or response.text[:200]}")


class Declined(Exception):
    """The API said no for good (the task is someone else's): the operation committed, declined."""


def _problem_type(response) -> str | None:
    try:
        return response.json().get("type")
    except ValueError:
        return None


async def post(client, path: str, body: dict[str, Any], params: dict[str, str] | None = None) -> dict:
    """POST a new row through the API: its JSON, or a `ConcordError` when none was created."""
    response = await client.post(path, json=body, params=params)
    if response.status_code != 201:
        raise ConcordError(
            f"setting up through the API failed: POST {path} answered {response.status_code} "
            f"{response.text[:200]}"
        )
    return response.json()


async def board_and_list(client, label: str) -> tuple[int, int]:
    """A board of the cell's own with one list, ``backlog``: their ids."""
    tag = f"{label} {datetime.now(UTC):%H%M%S} {random.getrandbits(32):08x}"
    board = await post(client, "/boards", {"name": f"race {tag}"})
    backlog = await post(client, f"/boards/{board['id']}/lists", {"name": "backlog"})
    return board["id"], backlog["id"]
