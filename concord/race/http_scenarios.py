"""What the workers of a race through HTTP do: each scenario's setup, operation and check, all
through the API (see `concord.race.http` for the runner)."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from concord.errors import ConcordError
from concord.nouns import count
from concord.race.latency import Latencies

DEFAULT_TASKS = 100
# 409 problem types worth another try, and the conflict kind each counts as.
RETRYABLE = {
    "/problems/lock-not-available": "lock_not_available",
    "/problems/stale-version": "stale_version",
    "/problems/serialization-failure": "serialization_failure",
    "/problems/deadlock": "deadlock",
}
DECLINED = "/problems/already-assigned"


@dataclass
class WorkerLog:
    """What one HTTP worker saw."""

    commits: int = 0
    attempts: int = 0
    retries: int = 0
    failures: int = 0
    declined: int = 0
    won: list[int] = field(default_factory=list)
    conflicts: Counter = field(default_factory=Counter)
    statuses: Counter = field(default_factory=Counter)
    latency: Latencies = field(default_factory=Latencies)
    errors: list[str] = field(default_factory=list)
    #: Attempt traces (worker, seq, attempt, start, end, outcome, None), the first ``trace_cap``.
    traces: list[tuple] = field(default_factory=list)
    traces_dropped: int = 0
    trace_cap: int = 0

    def trace(self, line: tuple) -> None:
        if len(self.traces) < self.trace_cap:
            self.traces.append(line)
        else:
            self.traces_dropped += 1


def classify(response, log: WorkerLog) -> str:
    """'done', 'declined', a conflict kind to retry, or 'error'."""
    log.statuses[str(response.status_code)] += 1
    if response.status_code == 200:
        return "done"
    problem = _problem_type(response)
    if response.status_code == 409 and problem == DECLINED:
        return "declined"
    if response.status_code == 409 and problem in RETRYABLE:
        return RETRYABLE[problem]
    log.errors.append(f"{response.status_code} {problem or response.text[:200]}")
    return "error"


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

        async def assign(log: WorkerLog) -> str:
            response = await client.post(
                f"/tasks/{task_id}/assign", params={"strategy": strategy}, json={"user": user}
            )
            outcome = classify(response, log)
            if outcome == "done":
                log.commits += 1
                log.won.append(task_id)
            elif outcome == "declined":
                log.declined += 1
            return outcome

        return assign

    async def check(self, client, fixture, logs: list[WorkerLog]) -> tuple[int, str, dict[str, Any]]:
        winners: dict[int, list[int]] = {}
        for worker, log in enumerate(logs):
            for task_id in log.won:
                winners.setdefault(task_id, []).append(fixture["users"][worker])
        assignees = {}
        for task_id in fixture["tasks"]:
            response = await client.get(f"/tasks/{task_id}")
            assignees[task_id] = response.json()["assignee_id"]
        extra = sum(len(users) - 1 for users in winners.values())
        wrong = sum(1 for task_id, users in winners.items() if assignees[task_id] not in users)
        silent = sum(1 for task_id, user in assignees.items() if user is not None and task_id not in winners)
        violations = extra + wrong + silent
        losers = sum(log.declined for log in logs)
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

        async def increment(log: WorkerLog) -> str:
            read = await client.get(f"/tasks/{task_id}")
            if classify(read, log) != "done":
                return "error"
            task = read.json()
            if_match = "*" if strategy == "none" else f'"{task["version"]}"'
            response = await client.patch(
                f"/tasks/{task_id}", json={"points": task["points"] + 1}, headers={"If-Match": if_match}
            )
            outcome = classify(response, log)
            if outcome == "done":
                log.commits += 1
            return outcome

        return increment

    async def check(self, client, fixture, logs: list[WorkerLog]) -> tuple[int, str, dict[str, Any]]:
        final = (await client.get(f"/tasks/{fixture['task']}")).json()["points"]
        committed = sum(log.commits for log in logs)
        lost = committed - final
        finding = f"lost {lost:,} of {committed:,} updates" if lost else f"all {committed:,} increments kept"
        return lost, finding, {"final_points": final, "committed_increments": committed, "lost_updates": lost}


ASSIGN = _AssignThroughHttp()
COUNTER = _CounterThroughHttp()
