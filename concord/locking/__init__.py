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

The isolation level is a separate axis, chosen where the connection is made.
`concord.locking.retry` classifies failed attempts by SQLSTATE and retries them with backoff.
"""

from __future__ import annotations

from concord.errors import InvalidInput
from concord.locking.advisory import AdvisoryLocking, advisory_key, advisory_lock_statement
from concord.locking.base import EXPECTED_VERSION, EntityKey, LockingStrategy
from concord.locking.none import NoLocking
from concord.locking.nowait import NowaitLocking
from concord.locking.optimistic import OptimisticLocking
from concord.locking.ordered import OrderedLocking
from concord.locking.pessimistic import PessimisticLocking
from concord.locking.retry import RetryPolicy, classify, run_with_retries
from concord.locking.skip_locked import SkipLockedLocking, claim_next_statement

STRATEGIES: dict[str, type[LockingStrategy]] = {
    cls.name: cls
    for cls in (
        NoLocking,
        PessimisticLocking,
        OrderedLocking,
        NowaitLocking,
        SkipLockedLocking,
        OptimisticLocking,
        AdvisoryLocking,
    )
}


def get_strategy(name: str | LockingStrategy) -> LockingStrategy:
    """The strategy called ``name`` ('skip-locked' and 'SKIP_LOCKED' are accepted too)."""
    if isinstance(name, LockingStrategy):
        return name
    key = name.strip().lower().replace("-", "_")
    if key not in STRATEGIES:
        raise InvalidInput(f"unknown locking strategy {name!r}: choose one of {', '.join(STRATEGIES)}")
    return STRATEGIES[key]()


def lock_statements() -> dict[str, object]:
    """Each strategy's lock statement (None when it takes no lock), for `concord explain`."""
    return {name: cls().lock_statement() for name, cls in STRATEGIES.items()}


__all__ = [
    "EXPECTED_VERSION",
    "STRATEGIES",
    "AdvisoryLocking",
    "EntityKey",
    "LockingStrategy",
    "NoLocking",
    "NowaitLocking",
    "OptimisticLocking",
    "OrderedLocking",
    "PessimisticLocking",
    "RetryPolicy",
    "SkipLockedLocking",
    "advisory_key",
    "advisory_lock_statement",
    "claim_next_statement",
    "classify",
    "get_strategy",
    "lock_statements",
    "run_with_retries",
]
