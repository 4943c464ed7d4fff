"""`counter`'s operation: read the points, add one in Python, write them back."""

from __future__ import annotations

from concord.locking.keys import EntityKey
from concord.race.program import DONE, Operation, Sql
from concord.race.programs.base import Fixture, Program, Traits


class CounterProgram(Program):
    def __init__(self, traits: Traits, fixture: Fixture, *, read: Sql, write: Sql) -> None:
        super().__init__(traits, fixture)
        self.task_id = fixture.tasks[0]
        self.key = EntityKey("tasks", self.task_id)
        self.read, self.write = read, write

    def operation(self, worker: int, seq: int) -> Operation:
        yield from self.guard(self.key)
        points, version = yield self.read, {"task_id": self.task_id}
        # The change happens in Python, between the read and the write: the window a lost
        # update slips through when nothing protects it.
        written = yield (
            self.write,
            self.write_params({"task_id": self.task_id, "points": points + 1}, version),
        )
        self.check_written(written, "task", self.task_id, version)
        return DONE
