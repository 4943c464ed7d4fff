"""`counter` through the API: ``GET /tasks/{id}``, then ``PATCH`` with ``points + 1`` under
``If-Match`` (the version read, or ``*`` for the control ``none``); the check reads the points back
(`concord.race.http` runs it)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from concord.race.job import WorkerReport
from concord.race.scenarios.http import answered, board_and_list, post
from concord.race.steps import DONE, Outcome


class CounterThroughHttp:
    """Workers increment one task's points through the API: no increment may be lost."""

    invariant = "final points == committed increments (the difference is lost updates)"

    async def setup(self, client, workers: int, ops: int | None) -> dict[str, Any]:
        _, backlog = await board_and_list(client, "counter")
        task = await post(client, f"/lists/{backlog}/tasks", {"title": "the counter"})
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


COUNTER = CounterThroughHttp()
