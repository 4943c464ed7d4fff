"""What the workers of a race through HTTP do: each scenario's setup, operation and check, all
through the API (see `concord.race.http` for the runner).

An operation is an `Attempt`: an async function run by the one race loop (`concord.race.loop`)
like a direct race's transaction. It returns an `Outcome` and raises what the API's answer
means: a retryable 409 as a conflict of its kind, anything unexpected as `Abandoned`.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from concord.errors import ConcordError, Conflict
from concord.nouns import count
from concord.race.job import WorkerReport
from concord.race.loop import Abandoned
from concord.race.steps import DECLINED as DECLINED_OUTCOME
from concord.race.steps import DONE, Outcome, Status

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


async def _post(client, path: str, body: dict[str, Any], params: dict[str, str] | None = None) -> dict:
    response = await client.post(path, json=body, params=params)
    if response.status_code != 201:
        raise ConcordError(
            f"setting up through the API failed: POST {path} answered {response.status_code} "
            f"{response.text[:200]}"
        )
    return response.json()


async def _board_and_list(client, label: str) -> tuple[int, int]:
    tag = f"{label} {datetime.now(UTC):%H%M%S} {random.getrandbits(32):08x}"
    board = await _post(client, "/boards", {"name": f"race {tag}"})
    backlog = await _post(client, f"/boards/{board['id']}/lists", {"name": "backlog"})
    return board["id"], backlog["id"]


class _AssignThroughHttp:
    invariant = "each task has exactly one winner, the assignee in the database; every loser is told so"

    async def setup(self, client, workers: int, ops: int | None) -> dict[str, Any]:
        board, backlog = await _board_and_list(client, "assign")
        count = DEFAULT_TASKS if ops is None else max(1, -(-ops // workers))
        tasks = [
            await _post(client, f"/lists/{backlog}/tasks", {"title": f"assign me {n}"}) for n in range(count)
        ]
        users = await asyncio.gather(
            *(_post(client, "/users", {"name": f"http racer {board} {w}"}) for w in range(workers))
        )
        return {"board": board, "tasks": [t["id"] for t in tasks], "users": [u["id"] for u in users]}

    def operation(self, client, strategy: str, fixture, worker: int, seq: int):
        if seq >= len(fixture["tasks"]):
            return None
        task_id, user = fixture["tasks"][seq], fixture["users"][worker]

        async def assign(statuses: Counter[str]) -> Outcome:
            response = await client.post(
                f"/tasks/{task_id}/assign", params={"strategy": strategy}, json={"user": user}
            )
            try:
                answered(response, statuses)
            except Declined:
                return DECLINED_OUTCOME
            return Outcome(Status.DONE, task_id)

        return assign

    async def check(
        self, client, fixture, reports: Sequence[WorkerReport]
    ) -> tuple[int, str, dict[str, Any]]:
        winners: dict[int, list[int]] = {}
        for report in reports:
            for task_id in report.payloads:
                winners.setdefault(task_id, []).append(fixture["users"][report.worker])
        assignees = {}
        for task_id in fixture["tasks"]:
            response = await client.get(f"/tasks/{task_id}")
            assignees[task_id] = response.json()["assignee_id"]
        extra = sum(len(users) - 1 for users in winners.values())
        wrong = sum(1 for task_id, users in winners.items() if assignees[task_id] not in users)
        silent = sum(1 for task_id, user in assignees.items() if user is not None and task_id not in winners)
        violations = extra + wrong + silent
        losers = sum(report.declined for report in reports)
        if violations:
            finding = f"{count(extra, 'extra winner')} told 'yours' on {count(len(winners), 'task')}"
            if wrong + silent:
                finding += f"; {wrong + silent:,} assignees disagree"
        else:
            finding = f"{count(len(winners), 'task')}, one winner each; {count(losers, 'loser')} told so"
        details = {
            "tasks_raced": len(winners),
            "extra_winners": extra,
            "assignee_mismatches": wrong + silent,
            "losers_told": losers,
        }
        return violations, finding, details


class _CounterThroughHttp:
    invariant = "final points == committed increments (the difference is lost updates)"

    async def setup(self, client, workers: int, ops: int | None) -> dict[str, Any]:
        _, backlog = await _board_and_list(client, "counter")
        task = await _post(client, f"/lists/{backlog}/tasks", {"title": "the counter"})
        return {"task": task["id"]}

    def operation(self, client, strategy: str, fixture, worker: int, seq: int):
        task_id = fixture["task"]

        async def increment(statuses: Counter[str]) -> Outcome:
            read = await client.get(f"/tasks/{task_id}")
            answered(read, statuses)
            task = read.json()
            if_match = "*" if strategy == "none" else f'"{task["version"]}"'
            response = await client.patch(
                f"/tasks/{task_id}", json={"points": task["points"] + 1}, headers={"If-Match": if_match}
            )
            answered(response, statuses)
            return DONE

        return increment

    async def check(
        self, client, fixture, reports: Sequence[WorkerReport]
    ) -> tuple[int, str, dict[str, Any]]:
        final = (await client.get(f"/tasks/{fixture['task']}")).json()["points"]
        committed = sum(report.done for report in reports)
        lost = committed - final
        finding = f"lost {lost:,} of {committed:,} updates" if lost else f"all {committed:,} increments kept"
        return lost, finding, {"final_points": final, "committed_increments": committed, "lost_updates": lost}


ASSIGN = _AssignThroughHttp()
COUNTER = _CounterThroughHttp()
