"""`claim-queue`'s operation: claim the next unassigned task of the backlog."""

from __future__ import annotations

from concord.locking.keys import EntityKey
from concord.race.scenarios.program import CompiledStrategy, Fixture, Program
from concord.race.steps import EXHAUSTED, Operation, Outcome, RowMissed, Sql, Status


class ClaimProgram(Program):
    def __init__(
        self, strategy: CompiledStrategy, fixture: Fixture, *, claim: Sql, any_left: Sql, write: Sql
    ) -> None:
        super().__init__(strategy, fixture)
        self.backlog = fixture.lists["backlog"]
        self.claim, self.any_left, self.write = claim, any_left, write

    def operation(self, worker: int, seq: int) -> Operation:
        return self._claim(self.fixture.users[worker])

    def _claim(self, user_id: int) -> Operation:
        yield from self.guard(EntityKey("task_lists", self.backlog))
        row = yield self.claim, {"list_id": self.backlog}
        if row is None:
            # No row: the backlog is empty, or (SKIP LOCKED, or a FOR UPDATE whose row was taken
            # while it waited) every candidate was held. Only an empty backlog ends the worker.
            if (yield self.any_left, {"list_id": self.backlog}):
                raise RowMissed("every unassigned task was held by another claimer")
            return EXHAUSTED
        task_id, version = row
        written = yield self.write, self.write_params({"task_id": task_id, "user_id": user_id}, version)
        self.check_written(written, "task", task_id, version)
        return Outcome(Status.DONE, task_id)
