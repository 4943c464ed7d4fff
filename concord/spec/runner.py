"""Run a parsed spec with isolationtester's semantics, on connections to one database.

The control flow is isolationtester's (isolationtester.c, run_permutation and try_complete_step),
so that output and its order match it byte for byte: a step is sent, then polled every 10 ms;
while it is busy the control connection asks the server
``pg_isolation_test_session_is_blocked(pid, pids of the other sessions)``. A step the server
reports as waiting is printed ``<waiting ...>`` and left running; steps waiting are retried after
every later step, and a step given to a session whose last step still runs waits for it first.
Blocker markers only delay when a finished step is reported. After the step timeout a step is
cancelled; after twice the timeout the whole spec is given up, as isolationtester exits.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import psycopg
from psycopg.conninfo import make_conninfo

from concord.errors import ConcordError
from concord.spec.connection import SpecConnection, describe, table
from concord.spec.model import PermutationStep, Spec, Step
from concord.spec.parser import unused_steps
from concord.spec.permutations import permutations
from concord.spec.transcript import PermutationRecord, StepRecord, Transcript

_WAIT_QUERY = b"isolationtester_waiting"
NONBLOCK, RETRY = 1, 2


class _Abort(Exception):
    """isolationtester would exit here: the rest of the spec is not run."""


@dataclass(eq=False)
class _Launch:
    """A permutation step sent to its session's connection."""

    pstep: PermutationStep
    step: Step
    conn: SpecConnection
    record: StepRecord
    targets: dict[int, int] = field(default_factory=dict)  # blocker index -> total notices awaited


def run_spec(
    spec: Spec, conninfo: str, *, name: str, step_timeout: float, transcript: Transcript
) -> Transcript:
    """Run every permutation of ``spec`` on ``conninfo``'s database, writing to ``transcript``."""
    for unused in unused_steps(spec):
        transcript.write(f"unused step name: {unused}\n")
    transcript.write(f"Parsed test spec with {len(spec.sessions)} sessions\n")
    runner = _Runner(spec, conninfo, name, step_timeout, transcript)
    try:
        for steps in permutations(spec):
            runner.run_permutation(steps)
    except _Abort:
        pass
    except psycopg.OperationalError as exc:
        # The server went away or a connection broke: isolationtester would print why and exit 1.
        transcript.abort(f"connection lost: {str(exc).strip()}\n")
    finally:
        runner.close()
    return transcript


class _Runner:
    def __init__(
        self, spec: Spec, conninfo: str, name: str, step_timeout: float, transcript: Transcript
    ) -> None:
        self.spec, self.out, self.max_wait = spec, transcript, step_timeout
        self.any_new_notice = False
        self.conns: list[SpecConnection] = []
        self.session_of = {
            step.name: index for index, session in enumerate(spec.sessions) for step in session.steps
        }
        self.steps = {step.name: step for session in spec.sessions for step in session.steps}
        # isolationtester appends "/session" to application_name; pg_isolation_regress sets isolation/NAME.
        try:
            for label in ["control connection", *(session.name for session in spec.sessions)]:
                info = make_conninfo(conninfo, application_name=f"isolation/{name}/{label}")
                self.conns.append(SpecConnection(info, label, None if not self.conns else self._notice))
            self.control, self.sessions = self.conns[0], self.conns[1:]
            self._prepare_wait_query()
        except BaseException:
            self.close()
            raise

    def _prepare_wait_query(self) -> None:
        pids = ",".join(str(conn.pid) for conn in self.sessions)
        query = f"SELECT pg_catalog.pg_isolation_test_session_is_blocked($1, '{{{pids}}}')"
        result = self.control.pg.prepare(_WAIT_QUERY, query.encode())
        if result.status != psycopg.pq.ExecStatus.COMMAND_OK:
            message = self.control.pg.error_message.decode().strip()
            raise ConcordError(f"prepare of lock wait query failed: {message}")

    def close(self) -> None:
        for conn in self.conns:
            conn.close()

    def _notice(self, conn: SpecConnection, message: str) -> None:
        self.out.write(f"{conn.name}: {message}")
        conn.notices += 1
        self.any_new_notice = True
        if conn.record is not None:
            conn.record.notices.append(message.rstrip("\n"))

    def run_permutation(self, steps: tuple[PermutationStep, ...]) -> None:
        self.out.write("\nstarting permutation:" + "".join(f" {pstep.name}" for pstep in steps) + "\n")
        record = PermutationRecord([pstep.name for pstep in steps])
        self.out.permutations.append(record)
        for sql in self.spec.setups:
            self._setup(self.control, sql, "setup failed: ")
        for conn, session in zip(self.sessions, self.spec.sessions, strict=True):
            if session.setup is not None:
                self._setup(conn, session.setup, f"setup of session {session.name} failed: ")
        waiting: list[_Launch] = []
        for pstep in steps:
            conn = self.sessions[self.session_of[pstep.name]]
            if conn.active is not None:
                waiting = self._wait_for_session(conn, waiting)
            launch = self._launch(pstep, conn, record)
            must_wait = self._try_complete(launch, NONBLOCK)
            waiting = self._try_complete_all(waiting, NONBLOCK | RETRY)
            if must_wait:
                waiting.append(launch)
        if self._try_complete_all(waiting, RETRY):
            self.out.abort("failed to complete permutation due to mutually-blocking steps\n")
            raise _Abort
        self._teardown()

    def _setup(self, conn: SpecConnection, sql: str, failure: str) -> None:
        error, printed = conn.execute(sql)
        self.out.write(printed)
        if error is not None:
            self.out.abort(failure + error)
            raise _Abort

    def _teardown(self) -> None:
        # Teardown failures are reported and the run goes on, as in isolationtester.
        for conn, session in zip(self.sessions, self.spec.sessions, strict=True):
            if session.teardown is not None:
                error, printed = conn.execute(session.teardown)
                self.out.write(
                    printed if error is None else f"teardown of session {session.name} failed: {error}"
                )
        if self.spec.teardown is not None:
            error, printed = self.control.execute(self.spec.teardown)
            self.out.write(printed if error is None else f"teardown failed: {error}")

    def _launch(self, pstep: PermutationStep, conn: SpecConnection, record: PermutationRecord) -> _Launch:
        step = self.steps[pstep.name]
        launch = _Launch(pstep, step, conn, StepRecord(step.name, conn.name, step.sql))
        record.launched.append(launch.record)
        if (error := conn.send(step.sql)) is not None:
            self.out.abort(f"failed to send query for step {step.name}: {error}\n")
            raise _Abort
        conn.active, conn.record = launch, launch.record
        for index, blocker in enumerate(pstep.blockers):
            if blocker.step is not None and blocker.notices is not None:
                other = self.sessions[self.session_of[blocker.step]]
                launch.targets[index] = blocker.notices + other.notices
        return launch

    def _wait_for_session(self, conn: SpecConnection, waiting: list[_Launch]) -> list[_Launch]:
        """The session's previous step still runs: wait for it, completing others meanwhile."""
        start = time.monotonic()
        while isinstance(old := conn.active, _Launch):
            if not self._try_complete(old, RETRY):
                waiting.remove(old)
            waiting = self._try_complete_all(waiting, NONBLOCK | RETRY)
            elapsed = time.monotonic() - start
            if conn.active is not None and elapsed > 2 * self.max_wait:
                active = "".join(
                    f" {c.active.step.name}" for c in self.sessions if isinstance(c.active, _Launch)
                )
                self.out.write(f"step {old.step.name} timed out after {int(elapsed)} seconds\n")
                self.out.abort(f"active steps are:{active}\n")
                raise _Abort
        return waiting

    def _try_complete_all(self, waiting: list[_Launch], flags: int) -> list[_Launch]:
        """Complete what can be completed; repeat while a completion or notice may free a blocker."""
        while True:
            self.any_new_notice = False
            before = len(waiting)
            still = [launch for launch in waiting if self._try_complete(launch, flags)]
            have_blocker = any(launch.pstep.blockers for launch in still)
            waiting = still
            if not (have_blocker and (len(waiting) < before or self.any_new_notice)):
                return waiting

    def _waiting_line(self, launch: _Launch) -> None:
        launch.record.waited = True
        self.out.write(f"step {launch.step.name}: {launch.step.sql} <waiting ...>\n")

    def _try_complete(self, launch: _Launch, flags: int) -> bool:
        """True while the step is not complete: waiting on a lock (NONBLOCK) or held by a marker."""
        if not flags & RETRY and any(blocker.once for blocker in launch.pstep.blockers):
            self._waiting_line(launch)
            return True
        conn, start, canceled = launch.conn, time.monotonic(), False
        while conn.is_busy():
            if conn.wait_readable():
                conn.consume_input()
                continue
            if flags & NONBLOCK and self._is_blocked(launch):
                conn.consume_input()  # notices may have arrived while the control connection asked
                if not conn.is_busy():
                    break
                if not flags & RETRY:
                    self._waiting_line(launch)
                return True
            elapsed = time.monotonic() - start
            if elapsed > self.max_wait and not canceled and conn.cancel():
                self.out.write(
                    f"isolationtester: canceling step {launch.step.name} after {int(elapsed)} seconds\n"
                )
                canceled = True
            if elapsed > 2 * self.max_wait:
                self.out.abort(f"step {launch.step.name} timed out after {int(elapsed)} seconds\n")
                raise _Abort
        if self._has_blocker(launch):
            if not flags & RETRY:
                self._waiting_line(launch)
            return True
        self._complete(launch, flags)
        return False

    def _complete(self, launch: _Launch, flags: int) -> None:
        step = launch.step
        self.out.write(
            f"step {step.name}: <... completed>\n" if flags & RETRY else f"step {step.name}: {step.sql}\n"
        )
        for result in launch.conn.results():
            printed, error = describe(result)
            self.out.write(printed)
            if error is not None:
                launch.record.errors.append(error)
            elif result.status == psycopg.pq.ExecStatus.TUPLES_OK:
                columns, rows = table(result)
                launch.record.results.append({"columns": columns, "rows": rows})
        for notify in launch.conn.notifies():
            sender = next((c.name for c in self.sessions if c.pid == notify.be_pid), f"PID {notify.be_pid}")
            channel, payload = notify.relname.decode(), notify.extra.decode()
            self.out.write(f'{launch.conn.name}: NOTIFY "{channel}" with payload "{payload}" from {sender}\n')
        launch.record.completed = True
        launch.conn.active = launch.conn.record = None

    def _has_blocker(self, launch: _Launch) -> bool:
        for index, blocker in enumerate(launch.pstep.blockers):
            if blocker.step is None:
                continue  # (*) only forces the first report
            other = self.sessions[self.session_of[blocker.step]]
            if blocker.notices is None:
                if isinstance(other.active, _Launch) and other.active.step.name == blocker.step:
                    return True
            elif other.notices < launch.targets[index]:
                return True
        return False

    def _is_blocked(self, launch: _Launch) -> bool:
        pid = str(launch.conn.pid).encode()
        result = self.control.pg.exec_prepared(_WAIT_QUERY, [pid])
        if result.status != psycopg.pq.ExecStatus.TUPLES_OK or result.ntuples != 1:
            self.out.abort(f"lock wait query failed: {self.control.pg.error_message.decode()}")
            raise _Abort
        blocked = result.get_value(0, 0) == b"t"
        if blocked and not launch.record.blocked_by:
            launch.record.blocked_by = self._blockers_of(pid)
        return blocked

    def _blockers_of(self, pid: bytes) -> list[str]:
        result = self.control.pg.exec_params(b"SELECT unnest(pg_catalog.pg_blocking_pids($1::int))", [pid])
        pids = {int(result.get_value(row, 0) or 0) for row in range(result.ntuples)}
        return [conn.name for conn in self.sessions if conn.pid in pids]
