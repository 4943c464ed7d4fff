"""`asyncio`: every worker is a task on one event loop, each with its own connection, driven
through non-blocking libpq (`concord.race.libpq_async.AsyncLibpqSession`); while racing, a worker's
statements are chained by the loop's reader callbacks (`concord.race.worker_async.LoopRacer`).

The loop runs in a thread of its own so the coordinator (live display, deadline, Ctrl-C) stays
in the main thread exactly as with the other executors. One thread drives all the connections:
no GIL contention between workers, but one core of client CPU at most.

The loop is uvloop's where it is installed (concord depends on it everywhere but Windows),
asyncio's own elsewhere; ``CONCORD_EVENT_LOOP=asyncio`` or ``uvloop`` chooses. Every
statement's result passes through the loop's reader callback, and uvloop's loop costs less
client CPU per callback: about 15 to 20% less client CPU per commit on the counter, for the
same throughput or a few percent more (``benchmarks/event_loop.py``, figures in
``benchmarks/README.md``).
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable

from concord.config import EVENT_LOOP_ENV, event_loop_from_env
from concord.errors import InvalidInput
from concord.race.executors.base import Death, sum_progress, wait_until
from concord.race.executors.threads import collect_ready
from concord.race.worker import WorkerJob, WorkerReport
from concord.race.worker_async import run_worker_async

EVENT_LOOPS = ("uvloop", "asyncio")


def event_loop() -> tuple[str, Callable[[], asyncio.AbstractEventLoop]]:
    """The asyncio executor's event loop: its name and a factory for it.

    uvloop's when it is installed, asyncio's own otherwise, unless ``CONCORD_EVENT_LOOP`` names
    one. A name it does not know, or uvloop asked for but not installed, is `InvalidInput`.
    """
    chosen = event_loop_from_env()
    if chosen not in (None, *EVENT_LOOPS):
        raise InvalidInput(f"{EVENT_LOOP_ENV} must be {' or '.join(EVENT_LOOPS)}, not {chosen!r}")
    if chosen == "asyncio":
        return "asyncio", asyncio.new_event_loop
    try:
        import uvloop
    except ImportError:
        if chosen == "uvloop":
            raise InvalidInput(f"{EVENT_LOOP_ENV}=uvloop, but uvloop is not installed") from None
        return "asyncio", asyncio.new_event_loop
    return f"uvloop {uvloop.__version__}", uvloop.new_event_loop


def event_loop_parameter(executors: tuple[str, ...]) -> dict[str, str]:
    """``{"event_loop": name}`` for a run's parameters when one of its executors is asyncio."""
    return {"event_loop": event_loop()[0]} if "asyncio" in executors else {}


class AsyncControl:
    def __init__(self, workers: int) -> None:
        self.progress = [0] * (2 * workers)
        self.stop_event = threading.Event()
        self.announced: queue.SimpleQueue[tuple[int, int | None]] = queue.SimpleQueue()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.go_async: asyncio.Event | None = None
        self.stop_callbacks: list[Callable[[], None]] = []

    def ready(self, worker: int, backend_pid: int | None) -> None:
        self.announced.put((worker, backend_pid))

    async def wait_go_async(self) -> bool:
        assert self.go_async is not None
        await self.go_async.wait()
        return not self.stop_event.is_set()

    def stopping(self) -> bool:
        return self.stop_event.is_set()

    def on_stop(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` on the loop when the coordinator stops the cell (ends a pause early)."""
        self.stop_callbacks.append(callback)

    def stop_now(self) -> None:
        """On the loop: release workers waiting for the go, and tell the racing ones."""
        if self.go_async is not None:
            self.go_async.set()
        for callback in self.stop_callbacks:
            callback()

    def call_from_outside(self, callback: Callable[[], None]) -> None:
        if self.loop is not None and not self.loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop already ended
                self.loop.call_soon_threadsafe(callback)


class AsyncCell:
    def __init__(self, jobs: list[WorkerJob]) -> None:
        self.jobs = jobs
        self.loop_factory = event_loop()[1]
        self.control = AsyncControl(len(jobs))
        self.reports: list[WorkerReport] = []
        self.error: BaseException | None = None
        self.started = threading.Event()
        self.thread = threading.Thread(target=self._run, name="racers-asyncio", daemon=True)
        self.thread.start()
        try:
            self.started.wait()
        except BaseException:  # Ctrl-C while starting: the workers must not wait for a go forever
            self.stop()
            raise

    def _run(self) -> None:
        try:
            with asyncio.Runner(loop_factory=self.loop_factory) as runner:
                runner.run(self._main())
        except BaseException as exc:  # reported by collect()
            self.error = exc
        finally:
            self.started.set()  # never leave the constructor waiting, even if the loop failed

    async def _main(self) -> None:
        control = self.control
        control.loop = asyncio.get_running_loop()
        control.go_async = asyncio.Event()
        self.started.set()
        if control.stop_event.is_set():  # stopped before the loop ran: nobody may wait for a go
            control.go_async.set()
        self.reports = list(await asyncio.gather(*(run_worker_async(job, control) for job in self.jobs)))

    def wait_ready(self, timeout: float) -> dict[int, int | None]:
        return collect_ready(self.control.announced, len(self.jobs), timeout)

    def go(self) -> None:
        go = self.control.go_async
        if go is not None:
            self.control.call_from_outside(go.set)

    def progress(self) -> tuple[int, int]:
        return sum_progress(self.control.progress)

    def finished(self) -> bool:
        return not self.thread.is_alive()

    def stop(self) -> None:
        self.control.stop_event.set()
        self.control.call_from_outside(self.control.stop_now)

    def collect(self, timeout: float) -> tuple[list[WorkerReport], list[Death]]:
        wait_until(self.finished, timeout)
        if self.thread.is_alive():
            return [], [Death(job.worker, "did not stop in time") for job in self.jobs]
        if self.error is not None:
            reason = f"event loop failed: {type(self.error).__name__}: {self.error}"
            return [], [Death(job.worker, reason) for job in self.jobs]
        return sorted(self.reports, key=lambda r: r.worker), []

    def kill_stragglers(self) -> list[int]:
        return []


class AsyncioExecutor:
    name = "asyncio"

    def start(self, jobs: list[WorkerJob]) -> AsyncCell:
        return AsyncCell(jobs)
