"""`wip-limit`'s operation: count a list's tasks, and move one in only while under the limit."""

from __future__ import annotations

from concord.locking.keys import EntityKey
from concord.race.scenarios.program import CompiledStrategy, Fixture, Program
from concord.race.steps import DECLINED, DONE, Operation, Sql


class WipLimitProgram(Program):
    def __init__(
        self, strategy: CompiledStrategy, fixture: Fixture, *, read_limit: Sql, count: Sql, move: Sql
    ) -> None:
        super().__init__(strategy, fixture)
        self.read_limit, self.count, self.move = read_limit, count, move

    def operation(self, worker: int, seq: int) -> Operation | None:
        targets = self.fixture.extra["targets"]
        if seq >= len(targets):
            return None
        task_id = self.fixture.tasks[seq * self.fixture.workers + worker]
        return self._move_in(targets[seq], task_id)

    def _move_in(self, list_id: int, task_id: int) -> Operation:
        yield from self.guard(EntityKey("task_lists", list_id))
        limit = yield self.read_limit, {"list_id": list_id}  # FOR UPDATE when the strategy locks
        held = yield self.count, {"list_id": list_id}
        if held >= limit:
            return DECLINED  # told: the list is full
        yield self.move, {"task_id": task_id, "list_id": list_id}
        return DONE
