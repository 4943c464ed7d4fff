"""The dependency graph between transactions: edges labelled ww, wr, rw as bits.

Adya's three data dependencies between committed (or possibly committed) transactions:
``ww`` (T2 overwrote, or appended after, what T1 wrote), ``wr`` (T2 read what T1 wrote) and
``rw`` (an anti-dependency: T1 read a version that T2 overwrote). One pair of transactions can
be related in several ways, so an edge holds a bit set; the model that built the graph explains
any edge on demand (`Explainer`), only for the few edges of a reported cycle.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from concord.history.model import Txn

WW, WR, RW = 1, 2, 4
REL_NAMES = {WW: "ww", WR: "wr", RW: "rw"}


class Explainer(Protocol):
    """How a model justifies one edge: a step ``{"type", "key", "value", "value'"}`` or None."""

    def explain(self, a: Txn, b: Txn, rel: int) -> dict[str, Any] | None: ...


class DependencyGraph:
    """Edges between transaction ids, each with the relations (bits) that hold between them."""

    def __init__(self, txns: list[Txn]) -> None:
        self.txns = txns
        self.edges: dict[tuple[int, int], int] = {}
        self._adjacency: dict[int, list[tuple[int, int]]] | None = None

    def link(self, a: Txn, b: Txn, rel: int) -> None:
        if a is not b:  # a transaction never depends on itself
            key = (a.id, b.id)
            self.edges[key] = self.edges.get(key, 0) | rel

    def link_all(self, sources: Iterable[Txn], b: Txn, rel: int) -> None:
        for a in sources:
            self.link(a, b, rel)

    def adjacency(self) -> dict[int, list[tuple[int, int]]]:
        """Every transaction's successors with their relation bits (built once)."""
        if self._adjacency is None:
            out: dict[int, list[tuple[int, int]]] = {}
            for (a, b), rel in self.edges.items():
                out.setdefault(a, []).append((b, rel))
            self._adjacency = out
        return self._adjacency

    def restricted(self, nodes: set[int]) -> dict[int, list[tuple[int, int]]]:
        """The adjacency of the subgraph on ``nodes`` (one strongly connected component)."""
        adjacency = self.adjacency()
        return {a: [(b, rel) for b, rel in adjacency.get(a, ()) if b in nodes] for a in nodes}

    def components(self) -> list[set[int]]:
        """The strongly connected components with more than one transaction, largest first."""
        import networkx as nx

        graph: nx.DiGraph[int] = nx.DiGraph()
        graph.add_edges_from(self.edges)
        found = [c for c in nx.strongly_connected_components(graph) if len(c) > 1]
        return sorted(found, key=len, reverse=True)
