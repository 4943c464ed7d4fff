"""Check a history: validate, infer, build the graph, search for cycles, and say the verdict.

The result is elle-cli's result map (``valid?``, ``anomaly-types``, ``anomalies``, ``not``,
``also-not``), with an ``explanation`` for each cycle and a few figures about the check.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from concord.history.consistency import boundary, forbidden_anomalies, known_models
from concord.history.cycles import Cycle, find_cycles
from concord.history.explain import explain_cycle
from concord.history.graph import REL_NAMES
from concord.history.load import History
from concord.history.model import MalformedHistory, Txn, gc_paused

#: Elle's default: the strongest model, so every anomaly found counts against the history.
DEFAULT_MODELS = ("strict-serializable",)
#: Anomaly types that say the check could not finish, not that the database erred.
UNKNOWN_TYPES = frozenset({"cycle-search-timeout"})

Stage = Callable[[str], None]


@dataclass
class FoundCycle:
    """A cycle with its transactions and the steps between them, for rendering and shrinking."""

    type: str
    txns: list[Txn]
    steps: list[dict[str, Any]]
    model: str = "list-append"

    def case(self) -> dict[str, Any]:
        """The cycle as Elle reports it: the operations (the first one again at the end), steps."""
        return {
            "type": self.type,
            "cycle": [t.op for t in self.txns] + [self.txns[0].op],
            "steps": self.steps,
            "explanation": explain_cycle(self.type, self.txns, self.steps, self.model),
        }


@dataclass
class CheckResult:
    """What the checker found in one history."""

    model: str
    valid: bool | str  # True, False or "unknown", as elle-cli says it
    anomalies: dict[str, list[dict[str, Any]]]
    cycles: list[FoundCycle]
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def anomaly_count(self) -> int:
        """Anomalies found (every case of every type), the search timeouts left out."""
        return sum(len(cases) for kind, cases in self.anomalies.items() if kind not in UNKNOWN_TYPES)

    def document(self) -> dict[str, Any]:
        """elle-cli's result map, plus concord's ``stats``."""
        if not self.anomalies:
            return {"valid?": True, "stats": self.stats}
        return {
            "valid?": self.valid,
            "anomaly-types": sorted(self.anomalies),
            "anomalies": self.anomalies,
            **boundary(self.anomalies),
            "stats": self.stats,
        }


def check_history(
    history: History,
    *,
    consistency_models: Iterable[str] = DEFAULT_MODELS,
    budget_s: float = 1.0,
    stage: Stage | None = None,
) -> CheckResult:
    """Find the anomalies of ``history``; ``stage`` hears the name of each step as it starts."""
    with gc_paused():
        return _check(history, _known(consistency_models), budget_s, stage)


def _check(history: History, models: tuple[str, ...], budget_s: float, stage: Stage | None) -> CheckResult:
    say = stage or (lambda _: None)
    started = time.perf_counter()
    say("inferring version orders")
    analysis = _analysis(history)
    say("looking for anomalies without cycles")
    anomalies = analysis.anomalies()
    say("building the dependency graph")
    graph = analysis.graph()
    say("searching strongly connected components for cycles")
    cycles, timeouts = find_cycles(graph, budget_s)
    found = [_found(history, analysis, c) for c in cycles]
    for cycle in found:
        anomalies.setdefault(cycle.type, []).append(cycle.case())
    if timeouts:
        cut_short = [{"scc-size": t.size, "not-searched": t.missing} for t in timeouts]
        anomalies["cycle-search-timeout"] = cut_short
    # As Elle does: anomalies the chosen models allow are not reported (nor held against it).
    reportable = forbidden_anomalies(models) | UNKNOWN_TYPES
    anomalies = {kind: cases for kind, cases in anomalies.items() if kind in reportable}
    found = [cycle for cycle in found if cycle.type in reportable]
    stats = {
        "transactions": len(history.txns),
        "operations": history.operations,
        "edges": len(graph.edges),
        "seconds": round(time.perf_counter() - started, 3),
    }
    valid = (False if set(anomalies) - UNKNOWN_TYPES else "unknown") if anomalies else True
    return CheckResult(history.model, valid, anomalies, found, stats)


def _analysis(history: History):
    if history.model == "list-append":
        from concord.history.list_append import ListAppend

        return ListAppend(history)
    from concord.history.rw_register import RwRegister

    return RwRegister(history)


def _found(history: History, analysis, cycle: Cycle) -> FoundCycle:
    members = [history.txns[i] for i in cycle.nodes]
    steps = []
    for i, rel in enumerate(cycle.rels):
        a, b = members[i], members[(i + 1) % len(members)]
        step = analysis.explain(a, b, rel)
        if step is None:  # the graph and its explainer disagree: a bug, never a finding
            raise AssertionError(f"no {REL_NAMES[rel]} step explains {a} -> {b}")
        steps.append(step)
    return FoundCycle(cycle.type, members, steps, history.model)


def _known(models: Iterable[str]) -> tuple[str, ...]:
    models = tuple(models)
    unknown = [m for m in models if m not in known_models()]
    if unknown:
        raise MalformedHistory(f"unknown consistency model {unknown[0]!r}: try serializable, read-committed")
    return models
