"""What a calibration runs: worker counts, executors, duration, rounds, pgbench's threads."""

from __future__ import annotations

import os
from dataclasses import dataclass

from concord.errors import InvalidInput

EXECUTORS = ("threads", "processes", "asyncio")
TARGET_RATIO = 0.9


@dataclass(frozen=True)
class Calibration:
    workers: tuple[int, ...] = (1, 8, 50)
    #: The two that came closest to pgbench here (threads at 1 and 8 workers, asyncio at 50) and
    #: start in a second; ``all`` adds processes.
    executors: tuple[str, ...] = ("threads", "asyncio")
    duration_s: float = 3.0
    rounds: int = 7  # single rounds swing by 10 to 30% on a shared 2-core machine: the median needs several
    #: pgbench -j, capped at the worker count: "cpus" (pgbench at its best on this machine: a few
    #: threads multiplexing the connections), "workers" (a thread per connection, the shape of
    #: concord's threads executor), or a number.
    pgbench_threads: int | str = "cpus"
    #: Also run the plain-Python floor (`run_floor`) in every round, once per worker count.
    floor: bool = False

    def validated(self) -> Calibration:
        if not self.workers or any(w < 1 for w in self.workers):
            raise InvalidInput("workers must be whole numbers of at least 1")
        unknown = [e for e in self.executors if e not in EXECUTORS]
        if unknown or not self.executors:
            raise InvalidInput(
                f"unknown executor {unknown[0] if unknown else ''!r}: choose {', '.join(EXECUTORS)} or all"
            )
        whole_seconds(self.duration_s)
        if self.rounds < 1:
            raise InvalidInput(f"rounds must be at least 1, not {self.rounds!r}")
        threads = self.pgbench_threads
        if threads not in ("cpus", "workers") and not (isinstance(threads, int) and threads >= 1):
            raise InvalidInput(
                f"pgbench threads must be cpus, workers or a number of at least 1, not {threads!r}"
            )
        return self

    def pgbench_jobs(self, workers: int) -> int:
        """pgbench's ``-j`` for a run of ``workers`` clients."""
        if self.pgbench_threads == "workers":
            return workers
        threads = (os.cpu_count() or 1) if self.pgbench_threads == "cpus" else int(self.pgbench_threads)
        return min(workers, threads)


def whole_seconds(duration_s: float) -> int:
    """``duration_s`` as pgbench's ``-T``; `InvalidInput` unless a whole number of at least 1.

    pgbench takes no fractions: any other duration would run pgbench and concord for different
    times.
    """
    if not (duration_s >= 1 and float(duration_s).is_integer()):
        raise InvalidInput(
            f"duration must be a whole number of seconds of at least 1 (pgbench -T), not {duration_s!r}"
        )
    return int(duration_s)
