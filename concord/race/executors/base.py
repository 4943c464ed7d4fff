"""What the coordinator needs from an executor, whatever runs the workers.

`Executor.start(jobs)` returns a `RunningCell`: the coordinator waits until every worker has
connected (`wait_ready`), releases them together (`go`: the barrier), watches `progress`, asks
them to stop, and `collect`s their reports. Workers that died without reporting (a killed
process) come back as `Death`s.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol

from concord.race.worker import WorkerJob, WorkerReport


@dataclass(frozen=True)
class Death:
    """A worker that ended without a report."""

    worker: int
    reason: str


class RunningCell(Protocol):
    def wait_ready(self, timeout: float) -> dict[int, int | None]:
        """Block until every worker connected (or failed to); worker -> backend pid."""
        ...

    def go(self) -> None: ...
    def progress(self) -> tuple[int, int]:
        """Commits and conflicts so far, over all workers."""
        ...

    def finished(self) -> bool: ...
    def stop(self) -> None: ...
    def collect(self, timeout: float) -> tuple[list[WorkerReport], list[Death]]: ...
    def kill_stragglers(self) -> list[int]: ...


class Executor(Protocol):
    name: str

    def start(self, jobs: list[WorkerJob]) -> RunningCell: ...


def sum_progress(array) -> tuple[int, int]:
    commits = sum(array[0::2])
    conflicts = sum(array[1::2])
    return commits, conflicts


def wait_until(predicate, timeout: float, step: float = 0.02) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` passes (coordinator side only)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() >= deadline:
            return False
        time.sleep(step)
    return True
