"""Is the client the bottleneck? The CPU time of concord's own processes and, when the server
runs on this machine, of the workers' backends, read from ``/proc`` over a cell.

A load generator that uses the machine's cores measures itself: when concord's processes use
nearly all the cores (or, for workers sharing one interpreter, nearly all of the one core its
lock lets Python use), the cell's numbers say more about concord than about PostgreSQL.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

#: Share of the usable cores at which the client is called the bottleneck.
CLIENT_BOUND_SHARE = 0.85
#: Executors whose workers share one interpreter: Python runs on one core at a time (the GIL).
ONE_INTERPRETER = frozenset({"threads", "asyncio"})
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(pid: int | str) -> float | None:
    """User + system CPU seconds of a process (all its threads) so far; None if unreadable."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            text = f.read()
    except OSError:
        return None
    fields = text[text.rindex(b")") + 2 :].split()  # the name may hold spaces and brackets
    return (int(fields[11]) + int(fields[12])) / _TICKS


def machine_cores() -> int:
    """Cores this process may run on (its affinity), else the machine's count."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


class CpuWatch:
    """CPU seconds of processes between `start` and the last `read`; a process that ends keeps
    its last reading (read often: `read` is cheap)."""

    def __init__(
        self, client: Iterable[int | str], server: Iterable[int], sampler: Iterable[int] = ()
    ) -> None:
        self.client = list(client)
        self.server = list(server)
        self.sampler = list(sampler)  # the sampler's own backend: its cost, apart
        self.first: dict[int | str, float] = {}
        self.last: dict[int | str, float] = {}

    def start(self) -> None:
        for pid in [*self.client, *self.server, *self.sampler]:
            seconds = cpu_seconds(pid)
            if seconds is not None:
                self.first[pid] = self.last[pid] = seconds

    def read(self) -> None:
        for pid in self.first:
            seconds = cpu_seconds(pid)
            if seconds is not None:
                self.last[pid] = seconds

    def used(self, pids: Iterable[int | str]) -> float | None:
        found = [self.last[p] - self.first[p] for p in pids if p in self.first]
        return sum(found) if found else None


def cpu_entry(watch: CpuWatch, seconds: float, executor: str, *, server_local: bool) -> dict[str, Any]:
    """The cell's ``cpu`` entry: cores used on average by concord and by the backends, and the
    client-bound call with its reason."""
    cores = machine_cores()
    client_s = watch.used(watch.client) or 0.0
    server_s = watch.used(watch.server) if server_local else None
    client_cores = client_s / seconds if seconds > 0 else 0.0
    usable = min(cores, 1) if executor in ONE_INTERPRETER else cores
    bound = client_cores >= CLIENT_BOUND_SHARE * usable
    entry: dict[str, Any] = {
        "cores": cores,
        "client_cores": round(client_cores, 3),
        "server_cores": None if server_s is None or seconds <= 0 else round(server_s / seconds, 3),
        "client_usable_cores": usable,
        "client_bound": bound,
    }
    sampler_s = watch.used(watch.sampler)
    if sampler_s is not None and seconds > 0:
        entry["sampler_backend_cores"] = round(sampler_s / seconds, 4)
    if bound:
        entry["note"] = client_bound_note(client_cores, usable, cores, executor)
    return entry


def client_bound_note(client_cores: float, usable: int, cores: int, executor: str) -> str:
    if executor in ONE_INTERPRETER and usable < cores:
        where = f"{client_cores:.2f} of the 1 core one Python interpreter can use ({executor} executor)"
        advice = "fewer workers or --executor processes"
    else:
        where = f"{client_cores:.2f} of {cores} cores"
        advice = "fewer workers, or the client on another machine"
    return f"client-bound: concord used {where}; the numbers measure concord, not PostgreSQL (try {advice})"
