"""Races through the HTTP shim: ``concord race --via http://127.0.0.1:8000``.

The same experiment as a direct race, but every worker is an asyncio task with an HTTP client and
every read and write is a request to a running `concord serve`. Fixtures are made and invariants
checked through the API too, so the API may sit on any database. The result has the shape of a
direct race (`RaceResult`), each cell with the HTTP status counts added (``http_status``).

Scenarios through HTTP:

- ``assign``: ``POST /tasks/{id}/assign?strategy=S``; every strategy the direct race allows.
- ``counter``: ``GET /tasks/{id}`` then ``PATCH`` with ``points + 1``. A lock cannot outlive a
  request, so only ``optimistic`` (``If-Match: "<version>"``, 409 re-read and retried) and the
  control ``none`` (``If-Match: *``, last writer wins) apply.

Isolation is the API's own (read committed).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from concord.errors import ConcordError, InvalidInput
from concord.locking import RetryPolicy
from concord.race.capacity import TooManyWorkers
from concord.race.cell import Progress, trace_cap
from concord.race.experiment import Experiment
from concord.race.http_scenarios import ASSIGN, COUNTER, WorkerLog
from concord.race.results import CellResult, CellTotals, RaceResult, verdict

ISOLATION = "read committed"
COUNTER_STRATEGIES = ("none", "optimistic")


@dataclass
class HttpCellResult(CellResult):
    """A cell raced through HTTP: a `CellResult` plus the count of each response status."""

    http_status: dict[str, int] = field(default_factory=dict)


def http_default_strategies(scenario: str) -> tuple[str, ...]:
    """The strategies a race through HTTP runs when none are named (empty: the scenario's own)."""
    return COUNTER_STRATEGIES if scenario == "counter" else ()


def check_experiment(experiment: Experiment) -> Experiment:
    """Refuse what cannot run through HTTP, with the reason; fill the defaults."""
    if not experiment.strategies and http_default_strategies(experiment.scenario):
        experiment = replace(experiment, strategies=http_default_strategies(experiment.scenario))
    experiment = experiment.validated()
    if experiment.scenario not in ("assign", "counter"):
        raise InvalidInput(f"--via races the assign and counter scenarios, not {experiment.scenario}")
    if set(experiment.isolations) - {ISOLATION}:
        raise InvalidInput("through HTTP the isolation level is the API's own (read committed)")
    if experiment.scenario == "counter":
        refused = [s for s in experiment.strategies if s not in COUNTER_STRATEGIES]
        if refused:
            raise InvalidInput(
                f"counter through HTTP takes none or optimistic, not {', '.join(refused)}: "
                "a row lock cannot outlive the request that took it"
            )
    return experiment


def run_http_experiment(
    experiment: Experiment, base_url: str, *, on_progress: Callable[[Progress], None] | None = None
) -> RaceResult:
    """Run every cell of ``experiment`` against the API at ``base_url``."""
    from concord import __version__

    experiment = check_experiment(experiment)
    return asyncio.run(_run(experiment, base_url.rstrip("/"), __version__, on_progress))


async def _run(experiment: Experiment, base: str, version: str, on_progress) -> RaceResult:
    import httpx2

    health = await _health(base)
    _ensure_served_at_once(health, base, max(experiment.workers))
    result = RaceResult(
        concord_version=version,
        started_at=datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        database={"server_version": health.get("server_version"), "via": base, "settings": {}},
        parameters={**experiment.parameters(), "executor": "http", "via": base},
    )
    cells = experiment.cells()
    # Idle connections are dropped before uvicorn's 5 s keep-alive timeout closes them under us.
    limits = httpx2.Limits(max_connections=max(experiment.workers) + 4, keepalive_expiry=2.0)
    async with httpx2.AsyncClient(base_url=base, limits=limits, timeout=60) as client:
        for index, cell in enumerate(cells):
            try:
                found, traces = await _run_cell(client, experiment, cell, index, len(cells), on_progress)
                result.cells.append(found)
                found.traces = traces
            except asyncio.CancelledError:
                result.interrupted = True
                break
    return result


async def _health(base: str) -> dict[str, Any]:
    import httpx2

    try:
        async with httpx2.AsyncClient(base_url=base, timeout=10) as client:
            response = await client.get("/health")
    except httpx2.HTTPError as exc:
        raise ConcordError(
            f"cannot reach the API at {base} ({exc}): is `concord serve` running there?"
        ) from exc
    if response.status_code != 200:
        raise ConcordError(f"{base}/health answered {response.status_code}: is that a concord API?")
    return response.json()


def _ensure_served_at_once(health: dict[str, Any], base: str, workers: int) -> None:
    """Refuse more workers than the API serves at once (as its /health says; an older API does not)."""
    capacity = health.get("capacity")
    if not isinstance(capacity, dict) or not isinstance(capacity.get("concurrent_requests"), int):
        return
    at_once = capacity["concurrent_requests"]
    if workers > at_once:
        overflow = capacity.get("max_overflow")
        pool = f"{capacity.get('pool_size')}+{overflow}" if overflow is not None else "unbounded"
        raise TooManyWorkers(
            f"{workers} workers need {workers} requests at once but the API at {base} serves {at_once} "
            f"at once ({capacity.get('threads')} threads, {pool} pooled connections); "
            f"use at most {at_once} workers"
        )


async def _run_cell(
    client, experiment: Experiment, cell, index: int, cells: int, on_progress
) -> tuple[HttpCellResult, list[tuple]]:
    scenario = ASSIGN if cell.scenario == "assign" else COUNTER
    fixture = await scenario.setup(client, cell.workers, experiment.ops)
    logs = [WorkerLog(trace_cap=trace_cap(cell.workers)) for _ in range(cell.workers)]
    barrier = asyncio.Barrier(cell.workers)
    policy = RetryPolicy(max_tries=experiment.max_tries)
    deadline = None if experiment.duration_s is None else experiment.duration_s
    clock = _Clock()
    ops = _share(experiment.ops, cell.workers)
    workers = [
        asyncio.create_task(
            _worker(
                scenario,
                client,
                cell.strategy,
                fixture,
                w,
                logs[w],
                barrier,
                clock,
                deadline,
                ops[w],
                policy,
                random.Random(experiment.seed * 100_003 + w),
            )
        )
        for w in range(cell.workers)
    ]
    watcher = asyncio.create_task(_watch(workers, logs, clock, deadline, index, cells, cell, on_progress))
    await asyncio.gather(*workers, return_exceptions=True)
    watcher.cancel()
    elapsed = clock.elapsed()
    violations, finding, details = await scenario.check(client, fixture, logs)
    result = _cell_result(experiment, cell, logs, elapsed, violations, finding, details, scenario.invariant)
    return result, [line for log in logs for line in log.traces]


class _Clock:
    """Starts when the last worker passes the barrier."""

    def __init__(self) -> None:
        self.started: float | None = None

    def start(self) -> None:
        if self.started is None:
            self.started = time.perf_counter()

    def elapsed(self) -> float:
        return 0.0 if self.started is None else time.perf_counter() - self.started


async def _worker(
    scenario, client, strategy, fixture, worker, log, barrier, clock, deadline, ops, policy, rng
):
    await barrier.wait()
    clock.start()
    seq = 0
    while (ops is None or seq < ops) and (deadline is None or clock.elapsed() < deadline):
        operation = scenario.operation(client, strategy, fixture, worker, seq)
        if operation is None:
            return
        started = time.perf_counter()
        outcome = await _with_retries(operation, log, policy, rng, (worker, seq))
        if outcome in ("done", "declined"):  # as a direct race: every operation that committed
            log.latency.record(time.perf_counter() - started)
        elif outcome == "gave_up":
            log.latency.record_gave_up(time.perf_counter() - started)
        seq += 1


async def _with_retries(operation, log: WorkerLog, policy: RetryPolicy, rng, op: tuple[int, int]) -> str:
    """Run one operation (a coroutine factory), retrying retryable 409s with jittered backoff."""
    import httpx2

    for attempt in range(1, policy.max_tries + 1):
        log.attempts += 1
        started = time.time()
        try:
            outcome = await operation(log)
        except httpx2.TransportError as exc:  # the request's fate is unknown: not retried, reported
            log.statuses["transport_error"] += 1
            log.errors.append(f"{type(exc).__name__}: {exc}")
            log.trace((*op, attempt, started, time.time(), "transport_error", None))
            return "error"
        kind = "committed" if outcome in ("done", "declined") else outcome
        log.trace((*op, attempt, started, time.time(), kind, None))
        if outcome in ("done", "declined", "error"):
            return outcome
        log.conflicts[outcome] += 1
        if attempt < policy.max_tries:
            log.retries += 1
            await asyncio.sleep(policy.delay(attempt, rng))
    log.failures += 1
    return "gave_up"


async def _watch(workers, logs, clock, deadline, index, cells, cell, on_progress) -> None:
    while on_progress and not all(w.done() for w in workers):
        commits = sum(log.commits for log in logs)
        conflicts = sum(sum(log.conflicts.values()) for log in logs)
        on_progress(Progress(index, cells, cell, clock.elapsed(), deadline, commits, conflicts))
        await asyncio.sleep(0.1)


def _share(ops: int | None, workers: int) -> list[int | None]:
    if ops is None:
        return [None] * workers
    return [ops // workers + (1 if w < ops % workers else 0) for w in range(workers)]


def _cell_result(experiment, cell, logs, elapsed, violations, finding, details, invariant) -> HttpCellResult:
    totals = CellTotals.of(logs)
    statuses: Counter[str] = Counter()
    for log in logs:
        statuses.update(log.statuses)
    return HttpCellResult(
        scenario=cell.scenario,
        strategy=cell.strategy,
        isolation=cell.isolation,
        executor="http",
        workers=cell.workers,
        duration_s=round(elapsed, 3),
        attempts=totals.attempts,
        commits=totals.commits,
        retries=totals.retries,
        failures=totals.failures,
        conflicts=totals.conflicts,
        violations=violations,
        invariant=invariant,
        throughput=totals.throughput(elapsed),
        latency_ms=totals.latency.percentiles_ms(),
        verdict=verdict(
            violations, finding, totals.conflicts, retries=totals.retries, failures=totals.failures
        ),
        finding=finding,
        operations={
            "done": totals.commits,
            "declined": sum(log.declined for log in logs),
            "gave_up": totals.failures,
        },
        details=details,
        worker_errors=[e for log in logs for e in log.errors][:20],
        http_status=dict(sorted(statuses.items())),
        trace=totals.trace(trace_cap(cell.workers)),
        latency_hdr=totals.latency.document(),
    )
