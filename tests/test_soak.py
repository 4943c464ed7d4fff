"""Soak: claim-queue with 50 workers for 5 minutes, zero violations, memory that stays flat.

Slow (outside the default run): ``pytest -m slow tests/test_soak.py -s``. Resident memory of this
process (threads: the coordinator and all 50 workers) is sampled every 5 s from the progress
callback; after a 30 s warm-up it may grow only by what the workers keep per commit by design
(one latency and one claimed task id each, a few tens of bytes).
"""

from __future__ import annotations

import statistics
import time

import psutil
import pytest
from test_race_support import sessions_left, url_text

from concord.race import Experiment, run_experiment
from concord.race.scenarios.claim_queue import scenario as claim_queue

SOAK_S = 300.0
MIB = 1024 * 1024


@pytest.mark.slow
def test_claim_queue_with_50_workers_for_five_minutes_keeps_its_invariant_and_flat_memory(
    database_url, monkeypatch
):
    # A backlog the 50 workers cannot drain in five minutes: a quiet 2-core machine claims about
    # 3,000 tasks a second (400,000 lasted 130 s there).
    monkeypatch.setattr(claim_queue, "DEFAULT_TASKS", 1_500_000)
    me = psutil.Process()
    samples: list[tuple[float, int]] = []

    def sample(progress) -> None:
        if not samples or progress.elapsed_s - samples[-1][0] >= 5.0:
            samples.append((progress.elapsed_s, me.memory_info().rss))

    experiment = Experiment(
        scenario="claim-queue",
        strategies=("skip_locked",),
        isolations=("read committed",),
        workers=(50,),
        executor="threads",
        duration_s=SOAK_S,
    )
    started = time.monotonic()
    result = run_experiment(experiment, database_url=url_text(database_url), on_progress=sample)
    wall = time.monotonic() - started
    [cell] = result.cells
    assert cell.duration_s >= SOAK_S - 1, f"the backlog drained after {cell.duration_s:.0f} s: make it larger"
    warm = [rss for t, rss in samples if 30 <= t < 90]
    late = [rss for t, rss in samples if t >= SOAK_S - 60]
    growth = (statistics.median(late) - statistics.median(warm)) / MIB
    print(
        f"\nsoak: {wall:.0f} s wall, {cell.duration_s:.0f} s racing, {cell.commits:,} commits "
        f"({cell.throughput:,.0f}/s), {cell.violations} violations, {cell.finding}; "
        f"rss {statistics.median(warm) / MIB:.0f} MiB at 30-90 s, {statistics.median(late) / MIB:.0f} MiB "
        f"in the last minute (+{growth:.1f} MiB); p99 {cell.latency_ms.get('p99')} ms"
    )
    assert (cell.violations, cell.worker_errors, cell.dead_workers) == (0, [], [])
    assert cell.details["claimed_twice"] == cell.details["lost"] == 0
    assert growth < 64  # flat: what the reports keep per commit, no leak
    assert sessions_left(database_url) == 0
