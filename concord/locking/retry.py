"""Retrying a transaction after a conflict: which failures are retried, and bounded backoff.

Every attempt ends in one outcome, named by `concord.errors.kind_of` (the SQLSTATE table lives in
`concord.errors` alone). Conflicts worth retrying are the server's serialization failures (40001)
and deadlocks (40P01) for every strategy, plus what a strategy expects of itself
(`LockNotAvailable` 55P03 for NOWAIT, `StaleVersion` for optimistic writes). A retry runs the
*whole* transaction again after a rollback, never just the failed statement.

Backoff is exponential with full jitter (sleep a uniform random time up to
``base * 2**(attempt-1)``, capped): colliding workers spread out instead of colliding again in
lock-step, and the cap keeps one unlucky worker from sleeping through the run.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from concord.errors import Deadlock, SerializationFailure, kind_of

T = TypeVar("T")

ALWAYS_RETRIED = frozenset({SerializationFailure.kind, Deadlock.kind})


def classify(exc: BaseException) -> tuple[str, str | None]:
    """The outcome kind and SQLSTATE of a failed attempt (``("error", state)`` when unknown):
    `concord.errors.kind_of`, under the name the retry rules have always used."""
    return kind_of(exc)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a conflicting transaction is run again."""

    max_tries: int = 10
    base_delay_s: float = 0.002
    max_delay_s: float = 0.2

    def __post_init__(self) -> None:
        if self.max_tries < 1:
            raise ValueError("max_tries must be at least 1")

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        ceiling = min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1))
        return (rng or random).uniform(0, ceiling)

    def pause_after(self, attempt: int, rng: random.Random | None = None) -> float | None:
        """The pause after failed attempt number ``attempt`` before the next, or None when that
        was the last try."""
        return None if attempt >= self.max_tries else self.delay(attempt, rng)


def run_with_retries(
    transaction: Callable[[], T],
    *,
    retry_on: frozenset[str] = ALWAYS_RETRIED,
    policy: RetryPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run ``transaction()`` until it succeeds, a non-retryable error escapes, or tries run out.

    ``transaction`` must open, run and commit its own transaction (a rollback must already have
    happened when it raises, as with ``with engine.begin():``).
    """
    policy = policy or RetryPolicy()
    for attempt in range(1, policy.max_tries + 1):
        try:
            return transaction()
        except Exception as exc:
            kind, _ = classify(exc)
            pause = policy.pause_after(attempt) if kind in retry_on else None
            if pause is None:
                raise
            sleep(pause)
    raise AssertionError("unreachable")  # pragma: no cover
