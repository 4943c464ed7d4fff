"""The sampler: a thread that reads the cell's worker backends from ``pg_stat_activity`` every
few milliseconds, on a connection of the coordinator's own.

One prepared statement per sample, for the cell's backends only (their pids, which the workers
reported when they connected): the wait event, the state, when the statement started, and on
one sample in `BLOCKING_EVERY` ``pg_blocking_pids()`` for those waiting on a heavyweight lock.
``pg_blocking_pids`` takes the lock manager's partition locks, so it is asked only about
sessions that wait on a lock, and not at every sample.
"""

from __future__ import annotations

import threading
import time

import psycopg
from psycopg import pq
from psycopg.errors import error_from_result
from psycopg.pq.abc import PGresult

from concord.race.waits.cpu import CpuWatch
from concord.race.waits.profile import Row, WaitTally

SAMPLE = b"""
SELECT pid, wait_event_type, wait_event, state, query_start, NULL::int[]
  FROM pg_stat_activity
 WHERE pid = ANY($1::int[])
"""
#: The same with the blockers of each session that waits on a lock. ``pg_blocking_pids`` takes
#: all sixteen lock-manager partition locks for each waiter, the very locks the workers take
#: for their row locks, so the graph is sampled on one sample in `BLOCKING_EVERY`.
SAMPLE_BLOCKING = SAMPLE.replace(
    b"NULL::int[]", b"CASE WHEN wait_event_type = 'Lock' THEN pg_blocking_pids(pid) END"
)
BLOCKING_EVERY = 5
#: Every 20 ms, whatever the number of workers. Every 10 ms cost counter/pessimistic at 8
#: workers a median 16% of its throughput over nine alternating rounds on the loaded 2-core
#: machine (rounds 0.55 to 1.29); every 20 ms, 3% (rounds 0.53 to 2.69) for half the sampler's
#: CPU. The noise is larger than either (benchmarks/README.md), so the cheaper rate won.
INTERVAL_S = 0.020
#: Read the CPU counters every this many samples (a process that exits keeps its last reading).
CPU_EVERY = 10


def interval_for(workers: int) -> float:
    """The sampling interval for a cell of ``workers`` (one rate for all, see `INTERVAL_S`)."""
    return INTERVAL_S


class Sampler:
    """Samples ``workers`` (backend pid -> worker) until `stop`; sums them in a `WaitTally`."""

    def __init__(self, query: Query, workers: dict[int, int], interval_s: float, cpu: CpuWatch) -> None:
        self.query, self.interval_s, self.cpu = query, interval_s, cpu
        self.tally = WaitTally(workers)
        self.pids = list(workers)
        self.error: str | None = None
        self.cpu_s = 0.0
        self.started_at = self.stopped_at = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="concord-waits", daemon=True)

    def start(self) -> None:
        self.cpu.start()
        self.started_at = time.monotonic()
        self._thread.start()

    def stop(self) -> None:
        """End sampling (idempotent); the CPU counters get their last reading here."""
        if self._stop.is_set():
            return
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        self.stopped_at = time.monotonic()
        self.cpu.read()

    @property
    def seconds(self) -> float:
        return max(0.0, self.stopped_at - self.started_at)

    def _run(self) -> None:
        interval, tally, pids = self.interval_s, self.tally, self.pids
        due, cpu_start = time.monotonic(), time.thread_time()
        try:
            query = self.query
            while not self._stop.is_set():
                at = time.monotonic()
                graph = tally.samples % BLOCKING_EVERY == 0
                tally.add(at, query.rows(graph, pids), graph=graph)
                if tally.samples % CPU_EVERY == 0:
                    self.cpu.read()
                due += interval
                pause = due - time.monotonic()
                if pause < 0:  # a slow sample: skip the beats it missed rather than catch up
                    due, pause = time.monotonic(), 0.0
                self._stop.wait(pause)
        except psycopg.Error as exc:  # the server went away: the cell reports it
            self.error = f"sampling stopped: {str(exc).strip().splitlines()[0] if str(exc).strip() else exc}"
        finally:
            self.cpu_s = time.thread_time() - cpu_start  # the sampler's own cost, in the cell


class Query:
    """The two sample statements, prepared once per connection (one `Query` serves every cell
    of an experiment) and run through psycopg's libpq object, their
    text values read as they come: less client CPU than a cursor's execute and fetch (26
    against 64 µs a sample with its rows at 8 workers, 82 against 126 at 50; one run each on
    the shared 2-core machine), which on the threads executor is taken from the workers."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.pgconn = conn.pgconn
        self.encoding = conn.info.encoding
        for name, sql in ((b"concord_waits", SAMPLE), (b"concord_waits_blocking", SAMPLE_BLOCKING)):
            self._check(self.pgconn.prepare(name, sql))

    def rows(self, graph: bool, pids: list[int]) -> list[Row]:
        array = ("{" + ",".join(map(str, pids)) + "}").encode()
        result = self._check(
            self.pgconn.exec_prepared(b"concord_waits_blocking" if graph else b"concord_waits", [array])
        )
        get, out = result.get_value, []
        for n in range(result.ntuples):
            blockers = get(n, 5)
            out.append(
                Row(
                    int(get(n, 0)),  # type: ignore[arg-type]
                    _text(get(n, 1)),
                    _text(get(n, 2)),
                    _text(get(n, 3)),
                    get(n, 4),  # compared, never read: the server's text as it came
                    tuple(int(p) for p in blockers[1:-1].split(b",") if p) if blockers else (),
                )
            )
        return out

    def _check(self, result: PGresult) -> PGresult:
        if result.status not in (pq.ExecStatus.COMMAND_OK, pq.ExecStatus.TUPLES_OK):
            raise error_from_result(result, encoding=self.encoding)
        return result


def _text(value: bytes | None) -> str | None:
    return None if value is None else value.decode()
