"""The strategies by name: the registry the command line, the API and the race engine look up."""

from __future__ import annotations

from concord.errors import InvalidInput
from concord.locking.advisory import AdvisoryLocking
from concord.locking.base import LockingStrategy
from concord.locking.none import NoLocking
from concord.locking.nowait import NowaitLocking
from concord.locking.optimistic import OptimisticLocking
from concord.locking.ordered import OrderedLocking
from concord.locking.pessimistic import PessimisticLocking
from concord.locking.skip_locked import SkipLockedLocking

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


__all__ = ["STRATEGIES", "get_strategy", "lock_statements"]
