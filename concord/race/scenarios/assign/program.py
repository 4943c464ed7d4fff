"""`assign`'s operation: read a task's assignee; if there is none, take the task."""

from __future__ import annotations

from concord.locking.keys import EntityKey
from concord.race.scenarios.program import CompiledStrategy, Fixture, Program
from concord.race.steps import DECLINED, Operation, Outcome, Sql, Status


class AssignProgram(Program):
    def __init__(self, strategy: CompiledStrategy, fixture: Fixture, *, read: Sql, write: Sql) -> None:
        super().__init__(strategy, fixture)
        self.read, self.write = read, write

    def operation(self, worker: int, seq: int) -> Operation | None:
        if seq >= len(self.fixture.tasks):
            return None
        return self._assign(self.fixture.tasks[seq], self.fixture.users[worker])

    def _assign(self, task_id: int, user_id: int) -> Operation:
        yield from self.guard(EntityKey("tasks", task_id))
        assignee, version = yield self.read, {"task_id": task_id}
        if assignee is not None:
            return DECLINED  # told: someone else has it
        params = self.write_params({"task_id": task_id, "user_id": user_id}, version)
        written = yield self.write, params
        self.check_written(written, "task", task_id, version)
        return Outcome(Status.DONE, task_id)  # told: it is yours
