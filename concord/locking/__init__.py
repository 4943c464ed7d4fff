"""Locking strategies as first-class objects: one interface, one module per strategy.

    from concord.locking import get_strategy
    strategy = get_strategy("optimistic")

| name          | class                 | how it protects a read-modify-write                         |
|---------------|-----------------------|-------------------------------------------------------------|
| `none`        | `NoLocking`           | it does not (the control)                                    |
| `pessimistic` | `PessimisticLocking`  | ``SELECT ... FOR UPDATE``                                   |
| `ordered`     | `OrderedLocking`      | ``FOR UPDATE`` on several rows in ascending key order        |
| `nowait`      | `NowaitLocking`       | ``FOR UPDATE NOWAIT``; 55P03 is retried with backoff        |
| `skip_locked` | `SkipLockedLocking`   | ``FOR UPDATE SKIP LOCKED``: claim rows nobody holds          |
| `optimistic`  | `OptimisticLocking`   | version compare-and-set; a stale version is retried          |
| `advisory`    | `AdvisoryLocking`     | ``pg_advisory_xact_lock`` on a key derived from the entity   |

Importing the package loads nothing: each name loads its module on first use (lazy_loader), so
a racing worker process that needs only `keys` and `retry` never imports SQLAlchemy.

The isolation level is a separate axis, chosen where the connection is made.
`concord.locking.retry` retries failed attempts with backoff, by the kinds `concord.errors.kind_of`
names (the one SQLSTATE table is in `concord.errors`).
"""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "advisory": ["AdvisoryLocking", "advisory_lock_statement"],
        "base": ["LockingStrategy"],
        "keys": ["EXPECTED_VERSION", "EntityKey", "advisory_key"],
        "none": ["NoLocking"],
        "nowait": ["NowaitLocking"],
        "optimistic": ["OptimisticLocking"],
        "ordered": ["OrderedLocking"],
        "pessimistic": ["PessimisticLocking"],
        "registry": ["STRATEGIES", "get_strategy", "lock_statements"],
        "retry": ["RetryPolicy", "classify", "run_with_retries"],
        "skip_locked": ["SkipLockedLocking", "claim_next_statement"],
    },
)
