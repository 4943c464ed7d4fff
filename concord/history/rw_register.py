"""rw-register: registers written blindly and read whole, with what can be inferred of them.

A write replaces a register's value, so a read reveals one version and not how it came to be:
the version order is only partly known. What concord infers (as Elle's `elle.rw-register` does
with its default options plus writes-follow-reads):

- the initial version (null) comes before every write;
- a transaction that read v1 of a key and then wrote v2 to it installed v2 after v1.

Only a transaction's external operations count: its first read of a key before writing it, and
its last write to it. Edges: ``ww`` between the writers of two versions in that order, ``wr``
from a version's writer to its readers, ``rw`` from the readers of a version to the writers of
the versions known to follow it. Anomalies without cycles: G1a, G1b, internal, lost-update.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from concord.history.graph import RW, WR, WW, DependencyGraph
from concord.history.load import History
from concord.history.model import FAIL, INFO, OK, Txn

INIT = None  # the initial version of every register


class RwRegister:
    """The analysis of one rw-register history."""

    def __init__(self, history: History) -> None:
        self.txns = history.txns
        self.possible = [t for t in self.txns if t.type in (OK, INFO)]
        self.writer: dict[tuple[Any, Any], Txn] = {}
        for txn in self.txns:
            for f, k, v in txn.mops:
                if f == "w":
                    self.writer[(k, v)] = txn
        self.external = {txn.id: _external(txn) for txn in self.possible}
        self.after: dict[Any, dict[Any, set[Any]]] = defaultdict(lambda: defaultdict(set))
        self.readers: dict[Any, dict[Any, list[Txn]]] = defaultdict(lambda: defaultdict(list))
        for txn in self.possible:
            reads, writes = self.external[txn.id]
            for k, v in writes.items():
                self.after[k][INIT].add(v)
                if reads.get(k, INIT) is not INIT:
                    self.after[k][reads[k]].add(v)  # writes follow reads
            for k, v in reads.items():
                # An info's null read was never made. A value nobody wrote relates the reader
                # to no one: Elle passes it by (elle-cli's own rw-register example reads one).
                if not (v is None and txn.type == INFO):
                    self.readers[k][v].append(txn)

    def _possible_writer(self, key: Any, value: Any) -> Txn | None:
        txn = self.writer.get((key, value)) if value is not None else None
        return txn if txn is not None and txn.type != FAIL else None

    def graph(self) -> DependencyGraph:
        graph = DependencyGraph(self.txns)
        for k, successors in self.after.items():
            for v1, later in successors.items():
                w1 = self._possible_writer(k, v1)
                readers = self.readers.get(k, {}).get(v1, ())
                for v2 in later:
                    w2 = self._possible_writer(k, v2)
                    if w2 is None:
                        continue
                    if w1 is not None:
                        graph.link(w1, w2, WW)
                    graph.link_all(readers, w2, RW)
        for k, by_value in self.readers.items():
            for v, readers in by_value.items():
                w = self._possible_writer(k, v)
                if w is not None:
                    for reader in readers:
                        graph.link(w, reader, WR)
        return graph

    def explain(self, a: Txn, b: Txn, rel: int) -> dict[str, Any] | None:
        reads_a, writes_a = self.external.get(a.id, ({}, {}))
        reads_b, writes_b = self.external.get(b.id, ({}, {}))
        if rel == WR:
            for k, v in reads_b.items():
                if v is not None and writes_a.get(k) == v:
                    return {"type": "wr", "key": k, "value": v}
        for k, v2 in writes_b.items():
            if rel == WW and k in writes_a and v2 in self.after[k].get(writes_a[k], ()):
                return {"type": "ww", "key": k, "value": writes_a[k], "value'": v2}
            if rel == RW and k in reads_a and v2 in self.after[k].get(reads_a[k], ()):
                return {"type": "rw", "key": k, "value": reads_a[k], "value'": v2}
        return None

    def anomalies(self) -> dict[str, list[dict[str, Any]]]:
        found: dict[str, list[dict[str, Any]]] = defaultdict(list)
        intermediate = {(k, v): t for t in self.txns for k, v in _intermediate_writes(t)}
        groups: dict[tuple[Any, Any], list[Txn]] = defaultdict(list)
        for txn in self.txns:
            if txn.type != OK:
                continue
            for mop in txn.mops:
                f, k, v = mop
                if f != "r" or v is None:
                    continue
                writer = self.writer.get((k, v))
                if writer is not None and writer.type == FAIL:
                    found["G1a"].append(_case(txn, mop, writer, v))
                writer = intermediate.get((k, v))
                if writer is not None and writer is not txn:
                    found["G1b"].append(_case(txn, mop, writer, v))
            self._internal(txn, found)
            reads, writes = self.external[txn.id]
            for k in writes:
                if k in reads:
                    groups[(k, reads[k])].append(txn)
        for (k, v), txns in groups.items():
            if len(txns) > 1:
                found["lost-update"].append({"key": k, "value": v, "txns": [t.op for t in txns]})
        return dict(found)

    def _internal(self, txn: Txn, found: dict) -> None:
        """A read that differs from the transaction's own last read or write of the key."""
        known: dict[Any, Any] = {}
        for f, k, v in txn.mops:
            if f == "r" and k in known and known[k] != v:
                found["internal"].append({"op": txn.op, "mop": [f, k, v], "expected": known[k]})
                return
            known[k] = v


def _external(txn: Txn) -> tuple[dict[Any, Any], dict[Any, Any]]:
    """The first read of each key made before writing it, and the last write to each key."""
    reads: dict[Any, Any] = {}
    writes: dict[Any, Any] = {}
    for f, k, v in txn.mops:
        if f == "r":
            if k not in writes and k not in reads:
                reads[k] = v
        else:
            writes[k] = v
    return reads, writes


def _intermediate_writes(txn: Txn):
    last: dict[Any, Any] = {}
    for f, k, v in txn.mops:
        if f == "w":
            if k in last:
                yield k, last[k]
            last[k] = v


def _case(txn: Txn, mop, writer: Txn, value: Any) -> dict[str, Any]:
    return {"op": txn.op, "mop": list(mop), "writer": writer.op, "element": value}
