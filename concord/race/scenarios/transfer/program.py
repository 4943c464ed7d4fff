"""`transfer`'s operation: move the head task of one list to the other, locking both lists.

Its payload is ``(source, target, prior)``: ``prior`` is the list the task was in when the write
took it, which is ``target`` when another worker moved the same task first (a move that moved
nothing).
"""

from __future__ import annotations

from concord.locking.keys import EntityKey
from concord.race.scenarios.program import CompiledStrategy, Fixture, Program
from concord.race.steps import DECLINED, Operation, Outcome, Sql, Status


class TransferProgram(Program):
    def __init__(
        self, strategy: CompiledStrategy, fixture: Fixture, *, lock_list: Sql | None, head: Sql, write: Sql
    ) -> None:
        super().__init__(strategy, fixture)
        self.lock_list, self.head, self.write = lock_list, head, write

    def operation(self, worker: int, seq: int) -> Operation:
        a, b = self.fixture.lists["a"], self.fixture.lists["b"]
        return self._move(a, b) if worker % 2 == 0 else self._move(b, a)

    def _move(self, source: int, target: int) -> Operation:
        keys = [EntityKey("task_lists", source), EntityKey("task_lists", target)]
        yield from self.guard(*keys)
        if self.lock_list is not None and not self.guards:
            for key in self.order(keys):  # source first unless the strategy orders keys
                yield self.lock_list, {"list_id": key.id}
        row = yield self.head, {"list_id": source}
        if row is None:
            return DECLINED  # nothing to move
        task_id, version = row
        prior = yield self.write, self.write_params({"task_id": task_id, "list_id": target}, version)
        self.check_written(0 if prior is None else 1, "task", task_id, version)
        return Outcome(Status.DONE, (source, target, prior))
