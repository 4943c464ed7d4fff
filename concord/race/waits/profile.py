"""Where a cell's worker-time went, from samples of its backends: a profile and a blocking graph.

Pure bookkeeping, no database: `WaitTally.add` takes one sample (one row per worker backend seen,
as `concord.race.waits.sampler` reads them from ``pg_stat_activity``) and `WaitTally.summary` turns
them into the cell's ``waits`` entry. Each worker contributes one slot to each sample, so a
key's share is its slots over ``samples x workers``: samples x interval per key, divided by
workers x the time sampled.

What a slot is called:

- ``Type:event`` for a server wait (``Lock:transactionid``, ``LWLock:WALWrite``, ``IO:WalSync``);
- ``CPU``: the backend was running a statement and waited on nothing (on a core, or queued for one);
- ``Client:ClientRead``: idle between transactions, waiting for the worker's next ``BEGIN`` (or
  its backoff pause after a conflict);
- ``Client:idle in transaction``: inside a transaction, waiting for the worker's next statement
  (the worker's own Python between statements, or the round trip);
- ``no session``: the worker's backend was not there (not connected yet, or already gone).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

CPU = "CPU"
CLIENT_IDLE = "Client:ClientRead"
IDLE_IN_TRANSACTION = "Client:idle in transaction"
NO_SESSION = "no session"
#: Edges kept per cell, most seen first (50 workers could make 2,450).
MAX_EDGES = 100
#: What a profile key belongs to, for the one-line summaries (first match of the key's prefix).
GROUPS = (("Lock:", "lock"), ("LWLock:", "lwlock"), ("IO:", "io"), ("Client:", "client"))


@dataclass(frozen=True)
class Row:
    """One worker backend in one sample, as ``pg_stat_activity`` showed it."""

    pid: int
    wait_type: str | None
    wait_event: str | None
    state: str | None
    #: When its statement started: two samples of one wait have the same one.
    query_start: Any = None
    #: ``pg_blocking_pids(pid)`` when it waited on a heavyweight lock, else empty.
    blockers: tuple[int, ...] = ()


def key_of(row: Row) -> str:
    """The profile key of one sampled backend (see the module docstring)."""
    state = row.state or ""
    # An idle backend is the client's time whatever the wait event says: between setting its
    # state and its wait event a backend shows an idle state with no event at all.
    if state.startswith("idle in transaction"):
        return IDLE_IN_TRANSACTION
    if state == "idle":
        return CLIENT_IDLE
    if row.wait_type:
        return f"{row.wait_type}:{row.wait_event}"
    if state == "active":
        return CPU
    return f"State:{state}"


def group_of(key: str) -> str:
    """``lock``, ``lwlock``, ``io``, ``client``, ``cpu``, ``no session`` or ``other``."""
    if key == CPU:
        return "cpu"
    if key == NO_SESSION:
        return "no session"
    return next((name for prefix, name in GROUPS if key.startswith(prefix)), "other")


class WaitTally:
    """The samples of one cell, summed as they arrive (constant memory however long the cell)."""

    def __init__(self, workers: dict[int, int]) -> None:
        #: backend pid -> worker number
        self.workers = workers
        self.samples = 0
        self.graph_samples = 0
        self.slots: Counter[str] = Counter()
        self.edges: Counter[tuple[int, int]] = Counter()  # (waiter pid, holder pid) -> samples
        self.max_waiters = 0
        self.longest_chain = 0
        #: pid -> (key, query_start, first seen, last seen) of the wait it is in
        self._open: dict[int, tuple[str, Any, float, float]] = {}
        self.longest: tuple[float, str, int] | None = None  # (seconds, key, pid)
        self.first_at: float | None = None
        self.last_at: float | None = None

    def add(self, at: float, rows: Iterable[Row], *, graph: bool = True) -> None:
        """One sample taken at ``at`` (seconds, a monotonic clock) of the cell's backends;
        ``graph``: whether it asked for the blockers (the blocking graph's samples)."""
        self.samples += 1
        self.graph_samples += graph
        lock_waiters = 0
        self.first_at = at if self.first_at is None else self.first_at
        self.last_at = at
        seen: set[int] = set()
        waits: dict[int, tuple[int, ...]] = {}
        for row in rows:
            seen.add(row.pid)
            key = key_of(row)
            self.slots[key] += 1
            self._track(row, key, at)
            lock_waiters += row.wait_type == "Lock"
            if row.blockers:
                waits[row.pid] = row.blockers
                for holder in row.blockers:
                    self.edges[(row.pid, holder)] += 1
        self.slots[NO_SESSION] += sum(1 for pid in self.workers if pid not in seen)
        for pid in [p for p in self._open if p not in seen]:
            self._close(pid)
        self.max_waiters = max(self.max_waiters, lock_waiters)
        if waits:
            self.longest_chain = max(self.longest_chain, longest_chain(waits))

    def _track(self, row: Row, key: str, at: float) -> None:
        """Follow each server wait from the first sample that saw it to the last."""
        current = self._open.get(row.pid)
        waiting = row.wait_type not in (None, "Client")
        if current is not None and waiting and current[:2] == (key, row.query_start):
            self._open[row.pid] = (key, row.query_start, current[2], at)
            return
        if current is not None:
            self._close(row.pid)
        if waiting:
            self._open[row.pid] = (key, row.query_start, at, at)

    def _close(self, pid: int) -> None:
        key, _, first, last = self._open.pop(pid)
        if self.longest is None or last - first > self.longest[0]:
            self.longest = (last - first, key, pid)

    def summary(self, interval_s: float) -> dict[str, Any]:
        """The cell's ``waits`` entry (see `concord.race.waits` for its keys)."""
        for pid in list(self._open):
            self._close(pid)
        total = self.samples * len(self.workers)
        profile = {k: round(n / total, 4) for k, n in self.slots.most_common() if n} if total else {}
        groups: dict[str, float] = {}
        for key, share in profile.items():
            groups[group_of(key)] = groups.get(group_of(key), 0.0) + share
        span = (self.last_at - self.first_at) if self.samples > 1 else 0.0  # type: ignore[operator]
        mean_interval = span / (self.samples - 1) if self.samples > 1 else None
        return {
            "samples": self.samples,
            "interval_ms": round(interval_s * 1000, 1),
            "mean_interval_ms": None if mean_interval is None else round(mean_interval * 1000, 2),
            "workers_sampled": len(self.workers),
            "profile": profile,
            "groups": {k: round(v, 4) for k, v in sorted(groups.items(), key=lambda kv: -kv[1])},
            "blocking": self.blocking(),
            "blocking_edges": len(self.edges),
            "blocking_samples": self.graph_samples,
            "max_waiters": self.max_waiters,
            "longest_chain": self.longest_chain,
            "longest_wait_ms": self._longest_ms(mean_interval or interval_s),
            "hottest_holder": self.hottest_holder(),
        }

    def _longest_ms(self, interval_s: float) -> dict[str, Any] | None:
        """The longest single server wait seen: from its first to its last sample, plus one
        interval (the wait began up to one interval before it was first seen and ended up to one
        after it was last seen), as the estimate."""
        if self.longest is None:
            return None
        seconds, key, pid = self.longest
        return {"ms": round((seconds + interval_s) * 1000, 1), "event": key, "worker": self.workers.get(pid)}

    def blocking(self) -> list[dict[str, Any]]:
        """Edges waiter -> holder with the samples that saw them (of the ``blocking_samples``
        that asked), most seen first. A holder that is no worker of the cell (another session)
        is ``None``, with its ``holder_pid``."""
        out = []
        for (waiter, holder), samples in self.edges.most_common(MAX_EDGES):
            edge: dict[str, Any] = {
                "waiter": self.workers.get(waiter),
                "holder": self.workers.get(holder),
                "samples": samples,
            }
            if edge["holder"] is None:
                edge["holder_pid"] = holder
            out.append(edge)
        return out

    def hottest_holder(self) -> dict[str, Any] | None:
        """The session most waited on: waiter-samples behind it, summed over its edges."""
        behind: Counter[int] = Counter()
        for (_, holder), samples in self.edges.items():
            behind[holder] += samples
        if not behind:
            return None
        pid, samples = behind.most_common(1)[0]
        return {"worker": self.workers.get(pid), "pid": pid, "samples": samples}


def longest_chain(waits: dict[int, tuple[int, ...]]) -> int:
    """Sessions in the longest waits-for path of one sample (A waits for B waits for C: 3).

    ``pg_blocking_pids`` names the holders and the waiters queued ahead, so a queue of n
    waiters makes a dense graph: longest paths are memoised, and an edge back into the path (a
    deadlock caught between two checks) ends the path rather than looping.
    """
    depth: dict[int, int] = {}
    on_path: set[int] = set()

    def walk(pid: int) -> int:
        if pid in depth:
            return depth[pid]
        if pid in on_path:
            return 0
        on_path.add(pid)
        best = 1 + max((walk(h) for h in waits.get(pid, ())), default=0)
        on_path.discard(pid)
        depth[pid] = best
        return best

    return max((walk(pid) for pid in waits), default=0)
