"""What a racing worker is given and what it gives back, whatever runs it.

`WorkerJob` travels to the worker (pickled, for a child process), `WorkerReport` comes back,
and `Control` is the coordinator's side as the worker sees it. The loop that fills the report
is `concord.race.loop`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from concord.locking.retry import RetryPolicy
from concord.race.latency import Latencies
from concord.race.scenarios.program import Program


@dataclass
class WorkerJob:
    """Everything one worker needs, picklable so it can travel to a child process."""

    worker: int
    dsn: str
    isolation: str
    program: Program
    policy: RetryPolicy
    retry_on: frozenset[str]
    ops: int | None  # this worker's share of --ops, or None to run until stopped
    trace_cap: int
    seed: int
    settings: tuple[tuple[str, str], ...] = ()  # session settings (lock_timeout, statement_timeout)


def ops_shares(ops: int | None, workers: int) -> list[int | None]:
    """Each worker's share of ``ops`` operations (the first ``ops % workers`` take one more);
    None for each when the run is timed instead."""
    if ops is None:
        return [None] * workers
    return [ops // workers + (1 if w < ops % workers else 0) for w in range(workers)]


@dataclass
class WorkerReport:
    """What one worker did, summed; sent back to the coordinator when the worker ends."""

    worker: int
    backend_pid: int | None = None
    attempts: int = 0
    done: int = 0
    declined: int = 0
    retries: int = 0
    failures: int = 0
    exhausted: bool = False
    conflicts: dict[str, int] = field(default_factory=dict)
    #: Each operation's latency, first attempt to commit or give-up (see concord.race.latency).
    latency: Latencies = field(default_factory=Latencies)
    payloads: list[Any] = field(default_factory=list)
    traces: list[tuple] = field(default_factory=list)
    traces_dropped: int = 0
    error: str | None = None
    #: ``time.perf_counter()`` when the worker's last operation ended (its race loop exited), or
    #: None if it never raced. CLOCK_MONOTONIC on Linux, one clock for every process, so the
    #: coordinator measures a cell until its last worker stopped, in-flight work included.
    stopped_at: float | None = None
    #: Transactions committed that found nothing left to do (EXHAUSTED): no operation, but a
    #: commit the server counts (the reconciliation with pg_stat_database needs them).
    empty_commits: int = 0
    #: Operations that ended in an error the race survives (`concord.race.loop.Abandoned`), and
    #: the first of their messages.
    abandoned: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def commits(self) -> int:
        return self.done + self.declined


class Control(Protocol):
    """The coordinator's side, as a worker sees it (threads, processes and asyncio differ)."""

    progress: Any  # a flat array: [2w] commits, [2w + 1] conflicts of worker w

    def ready(self, worker: int, backend_pid: int | None) -> None: ...
    def wait_go(self) -> bool: ...
    def stopping(self) -> bool: ...
    def pause(self, seconds: float) -> bool: ...  # sleep; True when stop was asked meanwhile
