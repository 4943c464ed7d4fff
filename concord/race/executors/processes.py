"""`processes`: one child process and one connection per worker.

Children are started with ``forkserver`` (``spawn`` where there is no forkserver): the fork
server is a fresh interpreter that imports concord once and forks cheap children from that clean
state, so no connection, pool or engine of the coordinator ever crosses a fork. Each child
opens its own connection from a URL string.

Children ignore SIGINT: Ctrl-C reaches the whole process group, and only the coordinator
decides how to stop (it raises the stop flag and cancels in-flight queries). Progress comes back
through a shared array, reports through a pipe per child; no lock is shared with a child (see
`ProcessControl`). A child that dies without reporting (killed with SIGKILL, say) becomes a
`Death`; the server rolls back its open transaction when the connection drops.

A child never outlives its coordinator, however the coordinator ended (SIGKILL included, where
no cleanup of its own runs): each child watches a lifeline, a pipe whose only write end the
coordinator holds and never writes to. When the coordinator's process dies the kernel closes
that end, the child reads end-of-file and exits at once (`watch_lifeline`), and the server rolls
back what its session had open. The pipe is tied to the coordinator itself: a child's parent is
the fork server, a process of its own, so ``PR_SET_PDEATHSIG`` would watch the wrong process.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import threading
import time
from multiprocessing.connection import Connection, wait
from typing import cast

from concord.race.executors.base import Death, sum_progress, wait_until
from concord.race.loop import heap_frozen
from concord.race.scenarios import PROGRAMS
from concord.race.worker import WorkerJob, WorkerReport, run_worker

#: What the fork server imports once, before it forks any worker: the main script (without it,
#: every child would run it again; concord's own is lean, see `concord.__main__`), this module
#: (psycopg and the worker loop) and every scenario's program (`concord.race.scenarios.PROGRAMS`).
#: Children then share those pages copy-on-write and import nothing of their own: no SQLAlchemy,
#: no ORM, no command line.
PRELOAD = ["__main__", "concord.race.executors.processes", *PROGRAMS]
#: How a worker process ends when its coordinator is gone (EX_SOFTWARE; no one reads it).
ORPHANED_EXIT = 70


def context() -> mp.context.ForkServerContext | mp.context.SpawnContext:
    if "forkserver" in mp.get_all_start_methods():
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(PRELOAD)
        return ctx
    return mp.get_context("spawn")


class ProcessControl:
    """A child's side of the coordination, built without a single shared lock.

    A worker may be killed at any instant (SIGKILL, the OOM killer, a test). ``multiprocessing``'s
    ``Event`` and ``Queue`` take a lock shared between processes, and a child killed while holding
    it would leave the coordinator or the other children waiting forever. So: the start signal
    and the stop signal are pipes whose write end only the coordinator holds (closing it wakes
    every reader at once with end-of-file), the stop flag read in the hot loop is a raw shared
    byte, progress is a raw shared array, and each child writes to a pipe of its own.
    """

    def __init__(self, progress, stop_flag, go: Connection, stop: Connection, outbox: Connection) -> None:
        self.progress, self.stop_flag = progress, stop_flag
        self.go, self.stop, self.outbox = go, stop, outbox

    def ready(self, worker: int, backend_pid: int | None) -> None:
        self.outbox.send(("ready", worker, backend_pid))

    def wait_go(self) -> bool:
        self.go.poll(None)  # end-of-file when the coordinator closes its end
        return not self.stopping()

    def stopping(self) -> bool:
        return bool(self.stop_flag.value)

    def pause(self, seconds: float) -> bool:
        return self.stop.poll(seconds)


def child_main(job: WorkerJob, control: ProcessControl, lifeline: Connection) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    watch_lifeline(lifeline)
    with heap_frozen():  # what the fork server preloaded is never walked by a collection
        report = run_worker(job, control)
    control.outbox.send(("report", report))


def watch_lifeline(lifeline: Connection) -> None:
    """Exit this process as soon as ``lifeline`` reads end-of-file: the coordinator is gone.

    A thread blocks on the pipe, so the worker's loop pays nothing for it. ``os._exit``, not a
    stop flag: a worker may be waiting on a lock or a query that only the coordinator would have
    cancelled, and nobody is left to read its report. Closing the socket is enough for the
    server, which rolls back the session's open transaction.
    """

    def watch() -> None:
        lifeline.poll(None)  # the coordinator never writes: readable means end-of-file
        os._exit(ORPHANED_EXIT)

    threading.Thread(target=watch, name="lifeline", daemon=True).start()


class ProcessCell:
    def __init__(self, jobs: list[WorkerJob]) -> None:
        ctx = context()
        self.progress_array = ctx.RawArray("q", 2 * len(jobs))
        self.stop_flag = ctx.RawValue("b", 0)
        go_reader, self._go = ctx.Pipe(duplex=False)
        stop_reader, self._stop = ctx.Pipe(duplex=False)
        # Held, never written, by this process alone until the cell is over (`watch_lifeline`).
        lifeline, self._lifeline = ctx.Pipe(duplex=False)
        self.inboxes: dict[int, Connection] = {}
        self.pids_ready: dict[int, int | None] = {}
        self.reports: dict[int, WorkerReport] = {}
        self.processes = []
        try:
            for job in jobs:
                inbox, outbox = ctx.Pipe(duplex=False)
                control = ProcessControl(self.progress_array, self.stop_flag, go_reader, stop_reader, outbox)
                process = ctx.Process(
                    target=child_main, args=(job, control, lifeline), name=f"racer-{job.worker}", daemon=True
                )
                self.processes.append(process)
                process.start()
                outbox.close()  # the child holds the only write end: its death reads as end-of-file
                self.inboxes[job.worker] = inbox
        except BaseException:  # Ctrl-C while starting: take down what already started
            self.stop()
            self.kill_stragglers()
            raise
        finally:
            lifeline.close()  # the read end is the children's; they received their copies at start

    def pids(self) -> list[int]:
        """Operating-system pids of the worker processes, in worker order."""
        return [p.pid for p in self.processes if p.pid is not None]

    def wait_ready(self, timeout: float) -> dict[int, int | None]:
        deadline = time.monotonic() + timeout
        while len(self.pids_ready) < len(self.processes) and self.inboxes:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            self._receive(min(left, 0.2))
        return dict(self.pids_ready)

    def go(self) -> None:
        self._go.close()

    def progress(self) -> tuple[int, int]:
        return sum_progress(self.progress_array)

    def finished(self) -> bool:
        self._receive(0)
        return all(i in self.reports or not p.is_alive() for i, p in enumerate(self.processes))

    def stop(self) -> None:
        self.stop_flag.value = 1
        self._stop.close()
        self._go.close()  # release workers still waiting for the start

    def collect(self, timeout: float) -> tuple[list[WorkerReport], list[Death]]:
        # Reports must be read before joining: a child blocks at exit until its report has been
        # taken from its pipe.
        wait_until(self.finished, timeout)
        self._receive(0.2)
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
        self._lifeline.close()  # the cell is over: whatever still runs ends on its own
        return stuck

    def _receive(self, timeout: float) -> None:
        """Read what the children sent within ``timeout``: ready announcements and reports."""
        by_inbox = {inbox: worker for worker, inbox in self.inboxes.items()}
        # wait returns the connections it was given (typeshed widens them to sockets and fds).
        for inbox in cast(list[Connection], wait(list(by_inbox), timeout)):
            worker = by_inbox[inbox]
            try:
                message = inbox.recv()
            except (EOFError, OSError):  # the child is gone; whatever it did not send is lost
                inbox.close()
                del self.inboxes[worker]
                continue
            if message[0] == "ready":
                self.pids_ready[worker] = message[2]
            else:
                self.reports[worker] = message[1]


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
