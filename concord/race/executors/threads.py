"""`threads`: one OS thread and one connection per worker, in this process.

Cheap to start (no interpreter per worker) and easy to stop: the coordinator shares the stop
event and the progress counters directly. The GIL is released while psycopg waits on the
server, which is where a racing worker spends its time.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

from concord.race.executors.base import Death, sum_progress, wait_until
from concord.race.worker import WorkerJob, WorkerReport, run_worker


class ThreadControl:
    def __init__(self, workers: int) -> None:
        self.progress = [0] * (2 * workers)
        self.go_event = threading.Event()
        self.stop_event = threading.Event()
        self.announced: queue.SimpleQueue[tuple[int, int | None]] = queue.SimpleQueue()
        #: Read by every worker before every operation: the event's own method, one call less.
        self.stopping: Callable[[], bool] = self.stop_event.is_set

    def ready(self, worker: int, backend_pid: int | None) -> None:
        self.announced.put((worker, backend_pid))

    def wait_go(self) -> bool:
        self.go_event.wait()
        return not self.stop_event.is_set()

    def pause(self, seconds: float) -> bool:
        return self.stop_event.wait(seconds)


class ThreadCell:
    def __init__(self, jobs: list[WorkerJob]) -> None:
        self.control = ThreadControl(len(jobs))
        self.reports: dict[int, WorkerReport] = {}
        self.threads = [
            threading.Thread(target=self._run, args=(job,), name=f"racer-{job.worker}", daemon=True)
            for job in jobs
        ]
        try:
            for thread in self.threads:
                thread.start()
        except BaseException:  # Ctrl-C while starting: release the started ones so they end
            self.stop()
            raise

    def _run(self, job: WorkerJob) -> None:
        self.reports[job.worker] = run_worker(job, self.control)

    def wait_ready(self, timeout: float) -> dict[int, int | None]:
        return collect_ready(self.control.announced, len(self.threads), timeout)

    def go(self) -> None:
        self.control.go_event.set()

    def progress(self) -> tuple[int, int]:
        return sum_progress(self.control.progress)

    def finished(self) -> bool:
        return not any(thread.is_alive() for thread in self.threads)

    def stop(self) -> None:
        self.control.stop_event.set()
        self.control.go_event.set()  # release workers still waiting at the barrier

    def collect(self, timeout: float) -> tuple[list[WorkerReport], list[Death]]:
        wait_until(self.finished, timeout)
        deaths = [Death(i, "did not stop in time") for i, t in enumerate(self.threads) if t.is_alive()]
        return [self.reports[w] for w in sorted(self.reports)], deaths

    def kill_stragglers(self) -> list[int]:
        return []  # threads cannot be killed; their backends are cancelled by the coordinator


def collect_ready(announced, workers: int, timeout: float) -> dict[int, int | None]:
    """Gather ``workers`` (worker, backend pid) announcements from a queue."""
    import time

    pids: dict[int, int | None] = {}
    deadline = time.monotonic() + timeout
    while len(pids) < workers:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        try:
            worker, pid = announced.get(timeout=min(left, 0.2))
        except queue.Empty:
            continue
        pids[worker] = pid
    return pids


class ThreadExecutor:
    name = "threads"

    def start(self, jobs: list[WorkerJob]) -> ThreadCell:
        return ThreadCell(jobs)
