"""Search each strongly connected component for the worst cycles, Adya's classes first.

A cycle's class comes from the edges it uses (each edge counted as the weakest relation it
holds, so a pair related by both ww and rw counts as ww):

- ``G0``: ww edges only (a write cycle);
- ``G1c``: ww and wr edges, at least one wr (circular information flow);
- ``G-single``: exactly one rw edge, the rest ww or wr (read skew);
- ``G2-item``: two or more rw edges (write skew); Elle would name a cycle whose rw edges are
  never adjacent ``G-nonadjacent``: concord reports it as G2-item.

In each component the search looks for one cycle of each class, the shortest it finds by
breadth-first search, within a time budget per component (Elle's cycle-search-timeout); a
component whose search ran out of time is reported as ``cycle-search-timeout``, which makes the
verdict "unknown" rather than valid.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise

from concord.history.graph import RW, WR, WW, DependencyGraph

DATA = WW | WR
#: Below this many transactions, a component's searches run without pruning (see _same_component).
SMALL_COMPONENT = 64


@dataclass(frozen=True)
class Cycle:
    """A cycle of transaction ids (first not repeated) and the relation each step uses."""

    type: str
    nodes: list[int]  # nodes[i] -> nodes[i + 1], the last back to nodes[0]
    rels: list[int]


@dataclass(frozen=True)
class Timeout:
    """A component whose search ran out of time before every class was looked for."""

    size: int
    missing: list[str]


def weakest(rel: int, allowed: int) -> int:
    """The relation an edge counts as, among ``allowed``: ww before wr before rw."""
    for bit in (WW, WR, RW):
        if rel & bit & allowed:
            return bit
    return 0


def find_cycles(graph: DependencyGraph, budget_s: float = 1.0) -> tuple[list[Cycle], list[Timeout]]:
    """One cycle of each class per strongly connected component, and the searches cut short."""
    cycles: list[Cycle] = []
    timeouts: list[Timeout] = []
    for component in graph.components():
        found, missing = _search_component(graph.restricted(component), time.monotonic() + budget_s)
        cycles.extend(found)
        if missing:
            timeouts.append(Timeout(len(component), missing))
    return cycles, timeouts


Adjacency = dict[int, list[tuple[int, int]]]


CLASSES = ("G0", "G1c", "G-single", "G2-item")


def _search_component(adj: Adjacency, deadline: float) -> tuple[list[Cycle], list[str]]:
    """The cycles found, and the classes not searched for (or not to the end) in time."""
    found: list[Cycle] = []

    def expired() -> bool:
        return time.monotonic() > deadline

    for name, search in zip(CLASSES, (_g0, _g1c, _g_single, _g2_item), strict=True):
        cycle = search(adj, expired)
        if cycle is not None:
            found.append(cycle)
        elif expired():
            return found, [n for n in CLASSES[CLASSES.index(name) :] if n not in {c.type for c in found}]
    return found, []


def _g0(adj: Adjacency, expired: Callable[[], bool]) -> Cycle | None:
    within = _same_component(adj, WW)
    return _first(adj, "G0", WW, 0, lambda b, a: within(a, b) and _data_path(adj, b, a, WW, expired), expired)


def _g1c(adj: Adjacency, expired: Callable[[], bool]) -> Cycle | None:
    # The wr edge must not also be ww: a cycle of ww edges alone is G0.
    within = _same_component(adj, DATA)
    back = lambda b, a: within(a, b) and _data_path(adj, b, a, DATA, expired)  # noqa: E731
    return _first(adj, "G1c", WR, WW, back, expired)


def _same_component(adj: Adjacency, allowed: int) -> Callable[[int, int], bool]:
    """Whether two transactions share a strongly connected component of the ``allowed`` edges:
    exactly when an edge between them closes a cycle of those edges, so no search is wasted.
    In a small component a search costs less than building the graph: every pair may try."""
    import networkx as nx

    if len(adj) < SMALL_COMPONENT:
        return lambda a, b: True
    graph = nx.DiGraph((a, b) for a, succs in adj.items() for b, rel in succs if rel & allowed)
    component = {n: i for i, c in enumerate(nx.strongly_connected_components(graph)) for n in c}
    return lambda a, b: a in component and component.get(a) == component.get(b)


def _g_single(adj: Adjacency, expired: Callable[[], bool]) -> Cycle | None:
    return _first(adj, "G-single", RW, DATA, lambda b, a: _data_path(adj, b, a, DATA, expired), expired)


def _g2_item(adj: Adjacency, expired: Callable[[], bool]) -> Cycle | None:
    return _first(adj, "G2-item", RW, DATA, lambda b, a: _path_through_rw(adj, b, a, expired), expired)


def _first(adj: Adjacency, kind: str, bit: int, exclude: int, back, expired) -> Cycle | None:
    """The first edge ``a -> b`` counted as ``bit`` from which ``back(b, a)`` finds a way home."""
    for a, succs in adj.items():
        for b, rel in succs:
            if rel & bit and not rel & exclude:
                found = back(b, a)
                if found:
                    nodes = [a, *found[0][:-1]]
                    # The (transaction, rw taken) search may pass one transaction twice: such a
                    # walk is no cycle to report; another first edge may give a simple one.
                    if len(set(nodes)) == len(nodes):
                        return Cycle(kind, nodes, [bit, *found[1]])
                if expired():
                    return None
    return None


def _data_path(adj: Adjacency, start: int, goal: int, allowed: int, expired):
    path = _path(adj, start, goal, allowed, expired)
    return None if path is None else (path, path_rels(adj, path, allowed))


def _path(adj: Adjacency, start: int, goal: int, allowed: int, expired) -> list[int] | None:
    """The shortest path ``start .. goal`` over edges holding one of ``allowed``."""
    if start == goal:
        return [start]
    parent = {start: start}
    queue = deque([start])
    popped = 0
    while queue:
        node = queue.popleft()
        for nxt, rel in adj.get(node, ()):
            if rel & allowed and nxt not in parent:
                parent[nxt] = node
                if nxt == goal:
                    return _walk_back(parent, start, goal)
                queue.append(nxt)
        popped += 1
        if popped % 1024 == 0 and expired():
            return None
    return None


def _walk_back(parent: dict, start, goal) -> list:
    path = [goal]
    while path[-1] != start:
        path.append(parent[path[-1]])
    return path[::-1]


def _path_through_rw(adj: Adjacency, start: int, goal: int, expired) -> tuple[list[int], list[int]] | None:
    """The shortest path ``start .. goal`` that counts at least one edge as rw: a search over
    (transaction, rw taken yet) states."""
    origin = (start, False)
    parent: dict[tuple[int, bool], tuple[tuple[int, bool], int]] = {origin: (origin, 0)}
    queue = deque([origin])
    popped = 0
    while queue:
        state = queue.popleft()
        node, used = state
        for nxt, rel in adj.get(node, ()):
            step = weakest(rel, DATA) or RW
            following = (nxt, used or step == RW)
            if following in parent:
                continue
            parent[following] = (state, step)
            if following == (goal, True):
                return _states_back(parent, origin, following)
            queue.append(following)
        popped += 1
        if popped % 1024 == 0 and expired():
            return None
    return None


def _states_back(parent: dict, origin, end) -> tuple[list[int], list[int]]:
    steps = []
    while end != origin:
        end, step = parent[end][0], (end[0], parent[end][1])
        steps.append(step)
    steps.reverse()
    return [origin[0], *(node for node, _ in steps)], [rel for _, rel in steps]


def path_rels(adj: Adjacency, path: list[int], allowed: int) -> list[int]:
    """The relation each step of ``path`` counts as."""
    rels = []
    for a, b in pairwise(path):
        rel = next(r for n, r in adj[a] if n == b)
        rels.append(weakest(rel, allowed))
    return rels
