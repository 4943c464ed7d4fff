"""Cut a history down to one cycle: a minimal reproduction to read, or to send upstream.

The transactions of the cycle stay, and of the others only those the cycle's edges need (the
reads that reveal a key's version order, the appends that put an element in its place). First
every transaction is cut to the keys the cycle's steps name; then transactions are removed, half
of the rest at a time and then one by one (a light delta debugging), as long as the checker
still finds a cycle of the same type over the cycle's transactions (or some of them: a shorter
cycle that the cut reveals is a smaller reproduction).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from concord.errors import ConcordError
from concord.history.check import FoundCycle, check_history
from concord.history.load import parse_history
from concord.history.model import INVOKE, MalformedHistory

#: Above this many transactions a history is only shrunk after cutting it to the cycle's keys.
WHOLE_LIMIT = 2_000


@dataclass(frozen=True)
class Shrunk:
    """The reproduction: its operations and the cycle the checker finds in it."""

    ops: list[dict[str, Any]]
    cycle: FoundCycle
    kept: int  # transactions kept
    of: int  # transactions in the history


class CannotShrink(ConcordError):
    """The history holds no cycle (of the kind asked for) to shrink to, or none that survives the cut."""


def shrink(ops: list[dict[str, Any]], model: str = "list-append", kind: str | None = None) -> Shrunk:
    """The smallest history found that still holds the first cycle (of type ``kind``) of ``ops``."""
    history = parse_history(ops, model)
    result = check_history(history)
    cycles = [c for c in result.cycles if kind is None or c.type == kind]
    if not cycles:
        # the history is fine; it holds nothing to cut down to (exit 1, not a usage error)
        raise CannotShrink(f"the history has no {kind or 'dependency'} cycle to shrink to")
    target = cycles[0]
    keys = {step["key"] for step in target.steps}
    members = frozenset(t.index for t in target.txns)

    def holds(kept: list[list[dict]]) -> FoundCycle | None:
        """A cycle of the target's type over some of the target's transactions (fewer is better)."""
        try:
            found = check_history(parse_history([op for group in kept for op in group], model))
        except MalformedHistory:
            return None  # a read left without its writer: this cut is not a history
        return next((c for c in found.cycles if c.type == target.type and _indices(c) <= members), None)

    def required(group: list[dict]) -> bool:
        return group[-1]["index"] in members

    kept = _transactions(ops, keys)
    if holds(kept) is None:  # cutting to the cycle's keys lost it: keep the transactions whole
        if len(history.txns) > WHOLE_LIMIT:
            raise CannotShrink(
                f"cutting the history to keys {sorted(keys)} loses the cycle; too long to shrink whole"
            )
        kept = _transactions(ops, None)
    kept = _reduce(kept, required, holds)
    cycle = holds(kept)
    assert cycle is not None  # the history holds it, and every step kept it
    return Shrunk([op for group in kept for op in group], cycle, len(kept), len(history.txns))


def _indices(cycle: FoundCycle) -> set[int]:
    return {t.index for t in cycle.txns}


def _transactions(ops: list[dict[str, Any]], keys: set | None) -> list[list[dict[str, Any]]]:
    """Each transaction's operations (invocation and completion), cut to ``keys`` when given."""
    groups: list[list[dict[str, Any]]] = []
    open_: dict[Any, list[dict[str, Any]]] = {}
    for position, op in enumerate(ops):
        if not isinstance(op, dict) or op.get("process") == "nemesis":
            continue
        op = {**op, "index": op.get("index", position)}
        if keys is not None and isinstance(op.get("value"), list):
            op["value"] = [m for m in op["value"] if isinstance(m, list) and len(m) == 3 and m[1] in keys]
        if op.get("type") == INVOKE:
            open_[op.get("process")] = [op]
            continue
        group = open_.pop(op.get("process"), [])
        groups.append([*group, op])
    groups.extend(open_.values())
    return [g for g in groups if g[-1].get("value")]


def _reduce(groups: list, required: Callable[[list], bool], holds: Callable[[list], Any]) -> list:
    """Remove chunks of the optional groups while ``holds`` stays true: halves, then singles."""
    kept = list(groups)
    if holds(kept) is None:
        return kept
    size = max(1, len(kept) // 2)
    while True:
        i = 0
        while i < len(kept):
            chunk = [g for g in kept[i : i + size] if not required(g)]
            trial = [g for g in kept if not any(g is c for c in chunk)] if chunk else kept
            if chunk and holds(trial) is not None:
                kept = trial
            else:
                i += size
        if size == 1:
            return kept
        size = max(1, size // 2)
