"""`assign` through the API: ``POST /tasks/{id}/assign?strategy=S`` races for each task, and the
check reads every task's assignee back (`concord.race.http` runs it)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from typing import Any

from concord.nouns import count
from concord.race.job import WorkerReport
from concord.race.scenarios.http import DEFAULT_TASKS, Declined, answered, board_and_list, post
from concord.race.steps import DECLINED as DECLINED_OUTCOME
from concord.race.steps import Outcome, Status


class AssignThroughHttp:
    """Workers race to assign each task to themselves through the API: one winner per task."""

    invariant = "each task has exactly one winner, the assignee in the database; every loser is told so"

    async def setup(self, client, workers: int, ops: int | None) -> dict[str, Any]:
        board, backlog = await board_and_list(client, "assign")
        count = DEFAULT_TASKS if ops is None else max(1, -(-ops // workers))
        tasks = [
            await post(client, f"/lists/{backlog}/tasks", {"title": f"assign me {n}"}) for n in range(count)
        ]
        users = await asyncio.gather(
            *(post(client, "/users", {"name": f"http racer {board} {w}"}) for w in range(workers))
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


ASSIGN = AssignThroughHttp()
