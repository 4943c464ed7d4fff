"""`counter`'s operation: read the points, add one in Python, write them back."""

from __future__ import annotations

from concord.locking.keys import EntityKey
from concord.race.scenarios.program import CompiledStrategy, Fixture, Program
from concord.race.steps import DONE, Operation, Sql


class CounterProgram(Program):
    def __init__(self, strategy: CompiledStrategy, fixture: Fixture, *, read: Sql, write: Sql) -> None:
        super().__init__(strategy, fixture)
        self.task_id = fixture.tasks[0]
        self.guards_first = self.guard(EntityKey("tasks", self.task_id))  # the same every time
        self.read, self.write = read, write
        self.read_params = {"task_id": self.task_id}  # never changes (and is never written to)

    def operation(self, worker: int, seq: int) -> Operation:
        yield from self.guards_first
        points, version = yield self.read, self.read_params
        # The change happens in Python, between the read and the write: the window a lost
        # update slips through when nothing protects it.
        written = yield (
            self.write,
            self.write_params({"task_id": self.task_id, "points": points + 1}, version),
        )
        self.check_written(written, "task", self.task_id, version)
        return DONE
