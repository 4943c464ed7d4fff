"""Where the time went: a wait profile and a blocking graph for every race cell.

While a cell's workers race, a sampler on a coordinator connection reads their backends from
``pg_stat_activity`` (and ``pg_blocking_pids()`` for those waiting on a lock) every 20 ms.
The cell's result then carries:

``waits``
    ``profile`` (``Type:event`` -> share of worker-time, plus ``CPU``, ``Client:ClientRead``,
    ``Client:idle in transaction`` and ``no session``), ``groups`` (the same summed per kind),
    ``blocking`` (edges ``{waiter, holder, samples}`` between workers), ``samples``,
    ``interval_ms``, ``max_waiters``, ``longest_chain``, ``longest_wait_ms``, ``hottest_holder``,
    ``cpu`` (cores used by concord and by the backends, ``client_bound``), ``nowait`` (the failed
    NOWAITs' holders, PostgreSQL 18) and ``note``, the honesty line.
``server``
    deltas of the race database's ``pg_stat_database`` counters (``xact_commit``,
    ``xact_rollback``, ``deadlocks``, ``conflicts``, ...) and their ``reconciliation`` with the
    workers' own counts; ``mismatches`` lists every disagreement.

Modules: `profile` (pure bookkeeping), `sampler` (the thread), `cpu` (``/proc``), `server`
(the counters), `nowait_log` (``log_lock_failures``), `watch` (the coordinator's calls),
`describe` (the entries in words).
"""
