"""Which consistency models an anomaly rules out, after Elle's `elle.consistency-model`.

Three relations, as Elle writes them down (sources in its namespace: Adya, Bailis, Cerone,
Daudjee): anomalies that imply others (an ``internal`` anomaly is also ``G1a``, ``G1c`` is also
``G1``), models that imply weaker ones (serializable implies repeatable read), and the anomalies
each model forbids directly. A history with anomalies A rules out every model that forbids an
anomaly implied by A, and every model stronger than those; ``not`` is the weakest of them and
``also-not`` the rest, with Elle's friendly names, so the result reads like elle-cli's.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

import networkx as nx

_IMPLIED_ANOMALIES = {
    "G0": ["G1c", "G0-process"],
    "G0-process": ["G1c-process", "G0-realtime"],
    "G0-realtime": ["G1c-realtime"],
    "G1a": ["G1"],
    "G1b": ["G1"],
    "G1c": ["G1", "G1c-process"],
    "G1c-process": ["G1c-realtime", "G1-process"],
    "G1c-realtime": ["G1-realtime"],
    "G1": ["G1-process"],
    "G1-process": ["G1-realtime"],
    "G-single-item": ["G-single", "G-single-item-process", "G-nonadjacent-item"],
    "G-single-item-process": ["G-single-process", "G-single-item-realtime", "G-nonadjacent-item-process"],
    "G-single-item-realtime": ["G-single-realtime", "G-nonadjacent-item-realtime"],
    "G-single": ["G-nonadjacent", "GSIb", "G-single-process"],
    "G-single-process": ["G-nonadjacent-process", "G-single-realtime"],
    "G-single-realtime": ["G-nonadjacent-realtime"],
    "G-nonadjacent-item": ["G-nonadjacent", "G2-item", "G-nonadjacent-item-process"],
    "G-nonadjacent-item-process": ["G-nonadjacent-process", "G2-item-process", "G-nonadjacent-item-realtime"],
    "G-nonadjacent-item-realtime": ["G2-item-realtime", "G-nonadjacent-realtime"],
    "G-nonadjacent": ["G2", "G-nonadjacent-process"],
    "G-nonadjacent-process": ["G2-process", "G-nonadjacent-realtime"],
    "G-nonadjacent-realtime": ["G2-realtime"],
    "G2": ["G2-process"],
    "G2-item": ["G2", "G2-item-process"],
    "G2-item-process": ["G2-process", "G2-item-realtime"],
    "G2-item-realtime": ["G2-realtime"],
    "G2-process": ["G2-realtime"],
    "GSIa": ["GSI"],
    "GSIb": ["GSI"],
    "incompatible-order": ["G1a"],
    "future-read": ["G1c"],
    "dirty-update": ["G1a"],
    "lost-update": ["write-skew", "G2-item"],
    "write-skew": ["G2"],
}

#: Friendly model name -> canonical (Adya's) name; models without an entry are their own.
_CANONICAL = {
    "consistent-view": "PL-2+",
    "conflict-serializable": "PL-3",
    "cursor-stability": "PL-CS",
    "forward-consistent-view": "PL-FCV",
    "monotonic-snapshot-read": "PL-MSR",
    "monotonic-view": "PL-2L",
    "read-committed": "PL-2",
    "read-uncommitted": "PL-1",
    "repeatable-read": "PL-2.99",
    "serializable": "PL-3",
    "snapshot-isolation": "PL-SI",
    "strict-serializable": "PL-SS",
    "strong-serializable": "PL-SS",
    "update-serializable": "PL-3U",
    "strong-session-read-uncommitted": "strong-session-PL-1",
    "strong-session-read-committed": "strong-session-PL-2",
    "strong-read-uncommitted": "strong-PL-1",
    "strong-read-committed": "strong-PL-2",
}
# Elle inverts the table, so the last friendly name of a canonical one wins, except PL-3.
_FRIENDLY = {**{canonical: friendly for friendly, canonical in _CANONICAL.items()}, "PL-3": "serializable"}

#: a -> b: a history that satisfies a satisfies b.
_MODELS = {
    "causal-cerone": ["read-atomic"],
    "consistent-view": ["cursor-stability", "monotonic-view"],
    "conflict-serializable": ["view-serializable"],
    "cursor-stability": ["read-committed", "PL-2"],
    "forward-consistent-view": ["consistent-view"],
    "PL-2": ["PL-1"],
    "PL-3": ["repeatable-read", "update-serializable"],
    "update-serializable": ["forward-consistent-view"],
    "monotonic-atomic-view": ["read-committed"],
    "monotonic-view": ["PL-2"],
    "monotonic-snapshot-read": ["PL-2"],
    "parallel-snapshot-isolation": ["causal-cerone", "update-atomic"],
    "prefix": ["causal-cerone"],
    "read-atomic": ["monotonic-atomic-view"],
    "read-committed": ["read-uncommitted"],
    "repeatable-read": ["cursor-stability", "monotonic-atomic-view"],
    "update-atomic": ["read-atomic"],
    "serializable": ["repeatable-read", "snapshot-isolation", "view-serializable"],
    "session-serializable": ["1SR"],
    "snapshot-isolation": [
        "forward-consistent-view",
        "monotonic-atomic-view",
        "monotonic-snapshot-read",
        "parallel-snapshot-isolation",
        "prefix",
    ],
    "strict-serializable": [
        "PL-3",
        "serializable",
        "linearizable",
        "snapshot-isolation",
        "strong-snapshot-isolation",
        "strong-session-serializable",
    ],
    "strong-session-PL-1": ["PL-1"],
    "strong-session-PL-2": ["PL-2", "strong-session-PL-1"],
    "strong-PL-1": ["strong-session-PL-1"],
    "strong-PL-2": ["strong-session-PL-2", "strong-PL-1"],
    "strong-session-serializable": ["serializable", "strong-session-snapshot-isolation"],
    "strong-session-snapshot-isolation": ["snapshot-isolation", "strong-session-PL-2"],
    "strong-serializable": ["session-serializable"],
    "strong-snapshot-isolation": ["strong-session-snapshot-isolation", "strong-PL-2"],
    "linearizable": ["sequential"],
    "sequential": ["causal"],
    "causal": ["writes-follow-reads", "PRAM"],
    "PRAM": ["monotonic-reads", "monotonic-writes", "read-your-writes"],
}

#: Model -> the anomalies it forbids over the weaker models it implies.
_PROSCRIBED = {
    "causal-cerone": ["internal", "G1a"],
    "cursor-stability": ["G1", "G-cursor", "lost-update"],
    "monotonic-view": ["G1", "G-monotonic"],
    "monotonic-snapshot-read": ["G1", "G-MSR"],
    "consistent-view": ["G1", "G-single"],
    "forward-consistent-view": ["G1", "G-SIb"],
    "parallel-snapshot-isolation": ["internal", "G1a"],
    "PL-3": ["G1", "G2"],
    "PL-2": ["G1"],
    "PL-1": ["G0", "duplicate-elements", "cyclic-versions"],
    "prefix": ["internal", "G1a"],
    "serializable": ["internal"],
    "snapshot-isolation": ["internal", "G1", "G-SI", "G-nonadjacent"],
    "read-atomic": ["internal", "G1a", "future-read"],
    "repeatable-read": ["G1", "G2-item", "lost-update"],
    "update-atomic": ["lost-update"],
    "strict-serializable": ["G1", "G1c-realtime", "G2-realtime"],
    "strong-session-PL-1": ["G0-process"],
    "strong-session-PL-2": ["G1c-process"],
    "strong-PL-1": ["G0-realtime"],
    "strong-PL-2": ["G1c-realtime"],
    "strong-session-snapshot-isolation": ["internal", "G1-process", "G-nonadjacent-process"],
    "strong-snapshot-isolation": ["internal", "G1-realtime", "G-nonadjacent-realtime"],
    "strong-session-serializable": ["G1-process", "G2-process"],
    "update-serializable": ["G1", "G-update"],
}


def canonical(model: str) -> str:
    return _CANONICAL.get(model, model)


def friendly(model: str) -> str:
    return _FRIENDLY.get(model, model)


@cache
def _graphs() -> tuple[nx.DiGraph, nx.DiGraph, nx.DiGraph]:
    anomalies = nx.DiGraph([(a, b) for a, bs in _IMPLIED_ANOMALIES.items() for b in bs])
    models = nx.DiGraph([(canonical(a), canonical(b)) for a, bs in _MODELS.items() for b in bs])
    forbids = nx.DiGraph([(canonical(m), a) for m, anoms in _PROSCRIBED.items() for a in anoms])
    return anomalies, models, forbids


def known_models() -> set[str]:
    """Every model name (friendly or canonical) `forbidden_anomalies` accepts."""
    _, models, _ = _graphs()
    return set(_CANONICAL) | set(models) | {friendly(m) for m in models}


def forbidden_anomalies(models: Iterable[str]) -> set[str]:
    """The anomalies that cannot occur if all of ``models`` hold (and those that imply them)."""
    anomalies, graph, forbids = _graphs()
    implied = set()
    for model in map(canonical, models):
        implied |= {model} | (nx.descendants(graph, model) if model in graph else set())
    direct = {a for m in implied if m in forbids for a in forbids.successors(m)}
    return direct | {b for a in direct if a in anomalies for b in nx.ancestors(anomalies, a)}


def boundary(found: Iterable[str]) -> dict[str, list[str]]:
    """``{"not": weakest models ruled out, "also-not": the stronger ones}``, friendly names."""
    anomalies, models, forbids = _graphs()
    implied = set()
    for anomaly in found:
        implied |= {anomaly} | (nx.descendants(anomalies, anomaly) if anomaly in anomalies else set())
    impossible = {m for a in implied if a in forbids for m in forbids.predecessors(a)}
    impossible |= {s for m in list(impossible) if m in models for s in nx.ancestors(models, m)}
    weakest = {m for m in impossible if not (models.has_node(m) and nx.descendants(models, m) & impossible)}
    return {
        "not": sorted({friendly(m) for m in weakest}),
        "also-not": sorted({friendly(m) for m in impossible - weakest}),
    }
