"""`list-append`'s operation: a few appends and reads over a small set of active keys.

Each transaction is 1 to ``max_mops`` micro-operations; each picks one of ``keys`` active key
slots at random and either appends a fresh integer to that key's list or reads the whole list
(Jepsen's Elle workload, as its PostgreSQL test runs it: a text column, ``INSERT ... ON CONFLICT
DO UPDATE SET val = val || ',' || v`` to append, a primary-key read to read). Keys spread over
several tables by ``key % tables``.

A key retires after ``writes_per_key`` appends and a fresh key takes its slot (Elle's
max-writes-per-key), so reads of absent rows and first inserts keep happening. A worker learns
that a key is full from its own reads and appends, without talking to the others; a key may end
up with a few appends more than the limit.

Every attempt is a transaction of the history, recorded here per worker and handed to the
coordinator in the payload of the next operation that commits: an attempt that failed (a
serialization failure, a deadlock, a COMMIT refused) is ``fail``, the one that committed ``ok``.
Appended values are ``n * workers + worker``: unique, and they name the worker that wrote them.
"""

from __future__ import annotations

import random
import time
from typing import Any

from concord.race.scenarios.program import CompiledStrategy, Fixture, Program
from concord.race.steps import Operation, Outcome, Sql, Status

#: A recorded attempt: (type, started, ended, micro-operations); a read's value is None until run.
Record = tuple[str, float, float, tuple[tuple[str, int, Any], ...]]


class _Worker:
    """One worker's state: its random numbers, counter, key generations and unreported attempts."""

    def __init__(self, seed: int, keys: int) -> None:
        self.rng = random.Random(seed)
        self.appends = 0
        self.generation = [0] * keys
        self.length: dict[int, int] = {}  # the least each key's list holds, as this worker knows
        self.pending: list[list[Any]] = []  # [type, started, ended, mops] of attempts not reported
        self.seq: int | None = None
        self.returned = False  # the last attempt reached COMMIT

    def settle(self, seq: int) -> None:
        """Before an attempt: what became of the previous one, known from ``seq`` alone."""
        if self.pending:
            if seq != self.seq and self.returned:
                self.pending = []  # it committed, and its payload carried every pending attempt
            else:
                self.pending[-1][0] = "fail"  # retried (same seq) or given up: it did not commit
        self.seq, self.returned = seq, False


class ListAppendProgram(Program):
    def __init__(
        self,
        strategy: CompiledStrategy,
        fixture: Fixture,
        *,
        appends: list[Sql],
        reads: list[Sql],
        keys: int,
        writes_per_key: int,
        max_mops: int,
        seed: int,
    ) -> None:
        super().__init__(strategy, fixture)
        self.appends, self.reads = appends, reads
        self.keys, self.writes_per_key, self.max_mops, self.seed = keys, writes_per_key, max_mops, seed
        self.workers = max(1, fixture.workers)
        self._state: dict[int, _Worker] = {}

    def operation(self, worker: int, seq: int) -> Operation:
        return self._transaction(worker, seq)

    def _transaction(self, worker: int, seq: int) -> Operation:
        state = self._state.get(worker)
        if state is None:
            state = self._state[worker] = _Worker(self.seed * 1_000_003 + worker, self.keys)
        state.settle(seq)
        mops = self._plan(state, worker)
        record: list[Any] = ["ok", time.time(), 0.0, mops]
        state.pending.append(record)
        tables = len(self.appends)
        for i, (f, key, value) in enumerate(mops):
            if f == "append":
                yield self.appends[key % tables], {"id": key, "v": str(value)}
                state.length[key] = state.length.get(key, 0) + 1
            else:
                text = yield self.reads[key % tables], {"id": key}
                read = [int(e) for e in text.split(",")] if text else None
                mops[i] = ("r", key, read)
                state.length[key] = len(read or ())
            if state.length[key] >= self.writes_per_key:
                self._retire(state, key)
        record[2] = time.time()
        state.returned = True
        # Before COMMIT: if it fails, this payload is dropped and the next attempt reports it.
        return Outcome(Status.DONE, [(r[0], r[1], r[2], tuple(r[3])) for r in state.pending])

    def _plan(self, state: _Worker, worker: int) -> list[tuple[str, int, Any]]:
        rng = state.rng
        mops: list[tuple[str, int, Any]] = []
        for _ in range(rng.randint(1, self.max_mops)):
            slot = rng.randrange(self.keys)
            key = slot + self.keys * state.generation[slot]
            if rng.random() < 0.5:
                state.appends += 1
                mops.append(("append", key, state.appends * self.workers + worker))
            else:
                mops.append(("r", key, None))
        return mops

    def _retire(self, state: _Worker, key: int) -> None:
        slot, generation = key % self.keys, key // self.keys
        if state.generation[slot] == generation:
            state.generation[slot] += 1
            state.length.pop(key, None)
