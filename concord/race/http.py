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
from concord.race.executors.base import sum_progress
from concord.race.experiment import Experiment
from concord.race.job import WorkerReport, ops_shares
from concord.race.loop import Abandoned, Fatal, Ledger, heap_frozen, race_loop
from concord.race.plan import RunPlan, plan_run
from concord.race.results import CellResult, CellTotals, RaceResult, verdict
from concord.race.scenarios.assign.http import ASSIGN
from concord.race.scenarios.counter.http import COUNTER
from concord.race.scenarios.http import RETRYABLE, Attempt

ISOLATION = "read committed"
#: What a race through HTTP retries: every conflict the API answers with a retryable 409.
HTTP_RETRIES = frozenset(RETRYABLE.values())
COUNTER_STRATEGIES = ("none", "optimistic")


@dataclass
class HttpCellResult(CellResult):
    """A cell raced through HTTP: a `CellResult` plus the count of each response status."""

    http_status: dict[str, int] = field(default_factory=dict)


def http_default_strategies(scenario: str) -> tuple[str, ...]:
    """The strategies a race through HTTP runs when none are named (empty: the scenario's own)."""
    return COUNTER_STRATEGIES if scenario == "counter" else ()


def check_experiment(experiment: Experiment | RunPlan) -> Experiment:
    """Refuse what cannot run through HTTP, with the reason; fill the defaults. A `RunPlan` is
    validated already (its strategies chosen with `http_default_strategies` in mind)."""
    if isinstance(experiment, RunPlan):
        experiment = experiment.experiment
    else:
        if not experiment.strategies and http_default_strategies(experiment.scenario):
            experiment = replace(experiment, strategies=http_default_strategies(experiment.scenario))
        experiment = plan_run(experiment).experiment
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


def require_http_client() -> None:
    """`InvalidInput` with the fix when the HTTP client (the ``api`` extra) is not installed."""
    try:
        import httpx2  # noqa: F401
    except ImportError as exc:
        raise InvalidInput("racing through HTTP needs the api extra: pip install 'concord[api]'") from exc


def run_http_experiment(
    experiment: Experiment | RunPlan, base_url: str, *, on_progress: Callable[[Progress], None] | None = None
) -> RaceResult:
    """Run every cell of ``experiment`` against the API at ``base_url``."""
    from concord import __version__

    require_http_client()
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
                result.cells.append(await _run_cell(client, experiment, cell, index, len(cells), on_progress))
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
) -> HttpCellResult:
    scenario = ASSIGN if cell.scenario == "assign" else COUNTER
    fixture = await scenario.setup(client, cell.workers, experiment.ops)
    program = _HttpProgram(scenario, client, cell.strategy, fixture)
    clock = _Clock(experiment.duration_s)
    progress = [0] * (2 * cell.workers)
    policy = RetryPolicy(max_tries=experiment.max_tries)
    reports = [WorkerReport(w) for w in range(cell.workers)]
    statuses: list[Counter[str]] = [Counter() for _ in range(cell.workers)]
    ledgers = [
        Ledger(
            report,
            seed=experiment.seed * 100_003 + report.worker,
            policy=policy,
            retry_on=HTTP_RETRIES,
            trace_cap=trace_cap(cell.workers),
            progress=progress,
            stopping=clock.past_deadline,
        )
        for report in reports
    ]
    barrier = asyncio.Barrier(cell.workers)
    ops = ops_shares(experiment.ops, cell.workers)
    workers = [
        asyncio.create_task(_worker(program, ops[w], ledgers[w], statuses[w], barrier, clock))
        for w in range(cell.workers)
    ]
    watcher = asyncio.create_task(_watch(workers, progress, clock, index, cells, cell, on_progress))
    with heap_frozen():
        await asyncio.gather(*workers, return_exceptions=True)
    watcher.cancel()
    elapsed = clock.elapsed()
    violations, finding, details = await scenario.check(client, fixture, reports)
    return _cell_result(cell, reports, statuses, elapsed, violations, finding, details, scenario.invariant)


class _HttpProgram:
    """A scenario's operations through the API, as the race loop asks for them."""

    def __init__(self, scenario, client, strategy: str, fixture) -> None:
        self.scenario, self.client, self.strategy, self.fixture = scenario, client, strategy, fixture

    def operation(self, worker: int, seq: int) -> Attempt | None:
        return self.scenario.operation(self.client, self.strategy, self.fixture, worker, seq)


class _Clock:
    """Starts when the last worker passes the barrier; says when the cell's duration is up."""

    def __init__(self, duration_s: float | None) -> None:
        self.duration_s = duration_s
        self.started: float | None = None

    def start(self) -> None:
        if self.started is None:
            self.started = time.perf_counter()

    def elapsed(self) -> float:
        return 0.0 if self.started is None else time.perf_counter() - self.started

    def past_deadline(self) -> bool:
        return self.duration_s is not None and self.elapsed() >= self.duration_s


async def _worker(program, ops, ledger: Ledger, statuses: Counter[str], barrier, clock: _Clock) -> None:
    """One worker: the race loop's attempts as requests, its pauses as sleeps."""
    import httpx2

    await barrier.wait()
    clock.start()
    steps = race_loop(program, ops, ledger)
    try:
        step = next(steps)
        while True:
            if step.__class__ is float:
                await asyncio.sleep(step)
                step = steps.send(False)
                continue
            try:
                outcome = await step(statuses)
            except httpx2.TransportError as exc:  # the request's fate is unknown: not retried
                statuses["transport_error"] += 1
                failure = Abandoned(f"{type(exc).__name__}: {exc}", "transport_error")
                step = steps.throw(failure)
            except Exception as exc:
                step = steps.throw(exc)
            else:
                step = steps.send(outcome)
    except StopIteration:
        pass
    except Fatal as exc:  # an answer the race cannot read: this worker stops, the cell says why
        ledger.report.error = f"worker {ledger.worker}: {exc}"
    finally:
        steps.close()


async def _watch(workers, progress, clock: _Clock, index, cells, cell, on_progress) -> None:
    while on_progress and not all(w.done() for w in workers):
        commits, conflicts = sum_progress(progress)
        on_progress(Progress(index, cells, cell, clock.elapsed(), clock.duration_s, commits, conflicts))
        await asyncio.sleep(0.1)


def _cell_result(cell, reports, statuses, elapsed, violations, finding, details, invariant) -> HttpCellResult:
    totals = CellTotals.of(reports)
    # Through HTTP a declined assign is a 409 whose transaction rolled back: commits are the
    # operations done, as the API's responses say (a direct race's declines commit).
    done = totals.done
    answers: Counter[str] = Counter()
    for counted in statuses:
        answers.update(counted)
    return HttpCellResult(
        scenario=cell.scenario,
        strategy=cell.strategy,
        isolation=cell.isolation,
        executor="http",
        workers=cell.workers,
        duration_s=round(elapsed, 3),
        attempts=totals.attempts,
        commits=done,
        retries=totals.retries,
        failures=totals.failures,
        conflicts=totals.conflicts,
        violations=violations,
        invariant=invariant,
        throughput=round(done / elapsed, 1) if elapsed > 0 else 0.0,
        latency_ms=totals.latency.percentiles_ms(),
        verdict=verdict(
            violations, finding, totals.conflicts, retries=totals.retries, failures=totals.failures
        ),
        finding=finding,
        operations={
            "done": done,
            "declined": totals.declined,
            "gave_up": totals.failures,
        },
        details=details,
        worker_errors=[*totals.worker_errors, *(e for report in reports for e in report.errors)][:20],
        http_status=dict(sorted(answers.items())),
        trace=totals.trace(trace_cap(cell.workers)),
        latency_hdr=totals.latency.document(),
        traces=totals.traces,
    )
