"""`asyncio`: every worker is a task on one event loop, each with its own connection, driven
through non-blocking libpq (`concord.race.libpq.AsyncLibpqSession`).

The loop runs in a thread of its own so the coordinator (live display, deadline, Ctrl-C) stays
in the main thread exactly as with the other executors. One thread drives all the connections:
no GIL contention between workers, but one core of client CPU at most.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading

from concord.race.executors.base import Death, sum_progress, wait_until
from concord.race.executors.threads import collect_ready
from concord.race.worker import WorkerJob, WorkerReport
from concord.race.worker_async import run_worker_async


class AsyncControl:
    def __init__(self, workers: int) -> None:
        self.progress = [0] * (2 * workers)
        self.stop_event = threading.Event()
        self.announced: queue.SimpleQueue[tuple[int, int | None]] = queue.SimpleQueue()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.go_async: asyncio.Event | None = None
        self.stop_async: asyncio.Event | None = None

    def ready(self, worker: int, backend_pid: int | None) -> None:
        self.announced.put((worker, backend_pid))

    async def wait_go_async(self) -> bool:
        assert self.go_async is not None
        await self.go_async.wait()
        return not self.stop_event.is_set()

    def stopping(self) -> bool:
        return self.stop_event.is_set()

    async def pause_async(self, seconds: float) -> bool:
        assert self.stop_async is not None
        try:
            await asyncio.wait_for(self.stop_async.wait(), seconds)
        except TimeoutError:
            return False
        return True

    def set_from_outside(self, event: asyncio.Event | None) -> None:
        if self.loop is not None and event is not None and not self.loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop already ended
                self.loop.call_soon_threadsafe(event.set)


class AsyncCell:
    def __init__(self, jobs: list[WorkerJob]) -> None:
        self.jobs = jobs
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
            asyncio.run(self._main())
        except BaseException as exc:  # reported by collect()
            self.error = exc
        finally:
            self.started.set()  # never leave the constructor waiting, even if the loop failed

    async def _main(self) -> None:
        control = self.control
        control.loop = asyncio.get_running_loop()
        control.go_async, control.stop_async = asyncio.Event(), asyncio.Event()
        self.started.set()
        if control.stop_event.is_set():  # stopped before the loop ran: nobody may wait for a go
            control.stop_async.set()
            control.go_async.set()
        self.reports = list(await asyncio.gather(*(run_worker_async(job, control) for job in self.jobs)))

    def wait_ready(self, timeout: float) -> dict[int, int | None]:
        return collect_ready(self.control.announced, len(self.jobs), timeout)

    def go(self) -> None:
        self.control.set_from_outside(self.control.go_async)

    def progress(self) -> tuple[int, int]:
        return sum_progress(self.control.progress)

    def finished(self) -> bool:
        return not self.thread.is_alive()

    def stop(self) -> None:
        self.control.stop_event.set()
        self.control.set_from_outside(self.control.stop_async)
        self.control.set_from_outside(self.control.go_async)

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
