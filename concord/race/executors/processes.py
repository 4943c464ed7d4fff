"""`processes`: one child process and one connection per worker.

Children are started with ``forkserver`` (``spawn`` where there is no forkserver): the fork
server is a fresh interpreter that imports concord once and forks cheap children from that clean
state, so no connection, pool or engine of the coordinator ever crosses a fork. Each child
opens its own connection from a URL string.

Children ignore SIGINT: Ctrl-C reaches the whole process group, and only the coordinator
decides how to stop (it sets the stop event and cancels in-flight queries). Progress comes back
through a shared array, reports through a queue. A child that dies without reporting (killed
with SIGKILL, say) becomes a `Death`; the server rolls back its open transaction when the
connection drops.
"""

from __future__ import annotations

import multiprocessing as mp
import queue
import signal
import time

from concord.race.executors.base import Death, sum_progress, wait_until
from concord.race.executors.threads import collect_ready
from concord.race.worker import WorkerJob, WorkerReport, run_worker

#: What the fork server imports once, before it forks any worker: the main script (without it,
#: every child would run it again; concord's own is lean, see `concord.__main__`), this module
#: (psycopg and the worker loop) and every scenario's program. Children then share those pages
#: copy-on-write and import nothing of their own: no SQLAlchemy, no ORM, no command line.
PRELOAD = ["__main__", "concord.race.executors.processes", "concord.race.programs"]


def context() -> mp.context.BaseContext:
    if "forkserver" in mp.get_all_start_methods():
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(PRELOAD)
        return ctx
    return mp.get_context("spawn")


class ProcessControl:
    """The coordinator's shared objects, handed to each child when it is created."""

    def __init__(self, ctx: mp.context.BaseContext, workers: int) -> None:
        self.progress = ctx.RawArray("q", 2 * workers)
        self.go_event = ctx.Event()
        self.stop_event = ctx.Event()
        self.announced = ctx.Queue()
        self.reports = ctx.Queue()

    def ready(self, worker: int, backend_pid: int | None) -> None:
        self.announced.put((worker, backend_pid))

    def wait_go(self) -> bool:
        self.go_event.wait()
        return not self.stop_event.is_set()

    def stopping(self) -> bool:
        return self.stop_event.is_set()

    def pause(self, seconds: float) -> bool:
        return self.stop_event.wait(seconds)


def child_main(job: WorkerJob, control: ProcessControl) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    control.reports.put(run_worker(job, control))


class ProcessCell:
    def __init__(self, jobs: list[WorkerJob]) -> None:
        ctx = context()
        self.control = ProcessControl(ctx, len(jobs))
        self.processes = [
            ctx.Process(target=child_main, args=(job, self.control), name=f"racer-{job.worker}", daemon=True)
            for job in jobs
        ]
        self.reports: dict[int, WorkerReport] = {}
        try:
            for process in self.processes:
                process.start()
        except BaseException:  # Ctrl-C while starting: take down what already started
            self.stop()
            self.kill_stragglers()
            raise

    def pids(self) -> list[int]:
        """Operating-system pids of the worker processes, in worker order."""
        return [p.pid for p in self.processes if p.pid is not None]

    def wait_ready(self, timeout: float) -> dict[int, int | None]:
        return collect_ready(self.control.announced, len(self.processes), timeout)

    def go(self) -> None:
        self.control.go_event.set()

    def progress(self) -> tuple[int, int]:
        return sum_progress(self.control.progress)

    def finished(self) -> bool:
        self._drain(0)
        return all(i in self.reports or not p.is_alive() for i, p in enumerate(self.processes))

    def stop(self) -> None:
        self.control.stop_event.set()
        self.control.go_event.set()

    def collect(self, timeout: float) -> tuple[list[WorkerReport], list[Death]]:
        # Reports must be read before joining: a child blocks at exit until its queued report
        # has been taken from the pipe.
        wait_until(self.finished, timeout)
        self._drain(0.2)
        deaths = []
        for i, process in enumerate(self.processes):
            if i in self.reports:
                process.join(timeout=2)
            elif not process.is_alive():
                deaths.append(Death(i, f"worker process exited with {_exit_reason(process.exitcode)}"))
        return [self.reports[w] for w in sorted(self.reports)], deaths

    def kill_stragglers(self) -> list[int]:
        stuck = [i for i, p in enumerate(self.processes) if p.pid is not None and p.is_alive()]
        for i in stuck:
            self.processes[i].kill()
            self.processes[i].join(timeout=2)
        return stuck

    def _drain(self, wait: float) -> None:
        deadline = time.monotonic() + wait
        while True:
            try:
                report = self.control.reports.get(timeout=max(0.0, deadline - time.monotonic()) or 0.001)
            except queue.Empty:
                return
            self.reports[report.worker] = report


def _exit_reason(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"code {code}"


class ProcessExecutor:
    name = "processes"

    def start(self, jobs: list[WorkerJob]) -> ProcessCell:
        return ProcessCell(jobs)
