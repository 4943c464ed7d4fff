"""list-append: infer each key's version order from the lists read, then find anomalies.

Every read returns a whole list, so it reveals a prefix of the key's version order: the longest
list read is the order (when every other read is a prefix of it; otherwise the reads are an
``incompatible-order``). From the order come the edges (as in Elle's `elle.list-append`):

- ``ww``: T2 appended the element right after T1's in the order (an append nobody read comes
  after the last element read: that much is known);
- ``wr``: T2 read a list whose last element T1 appended;
- ``rw``: T1 read the version just before T2's append (or the empty list before the first one).

Anomalies found without cycles: G1a (read of a failed transaction's append), G1b (read of an
append that was not its transaction's last to the key), internal, future-read,
duplicate-elements, incompatible-order, dirty-update, lost-update.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from itertools import pairwise
from typing import Any

from concord.history.graph import RW, WR, WW, DependencyGraph
from concord.history.load import History
from concord.history.model import FAIL, INFO, OK, MalformedHistory, Mop, Txn

#: The version before the first append: the key did not exist (read as null or []).
INIT = object()
_UNKNOWN = object()


def mop_json(mop: Mop) -> list[Any]:
    f, k, v = mop
    return [f, k, list(v) if isinstance(v, tuple) else v]


class ListAppend:
    """The analysis of one list-append history: version orders, indices, edges, explanations."""

    def __init__(self, history: History) -> None:
        self.txns = history.txns
        self.possible = [t for t in self.txns if t.type in (OK, INFO)]
        self.writer: dict[tuple[Any, Any], Txn] = {}  # (key, element) -> appender, any outcome
        for txn in self.txns:
            for f, k, v in txn.mops:
                if f == "append":
                    self.writer[(k, v)] = txn
        self.incompatible: list[dict[str, Any]] = []
        self.orders = self._orders()
        self.index = {k: {e: i for i, e in enumerate(order)} for k, order in self.orders.items()}
        self.readers = self._readers()

    # Version orders

    def _orders(self) -> dict[Any, list[Any]]:
        reads: dict[Any, set[tuple]] = defaultdict(set)
        appends: dict[Any, list[Any]] = defaultdict(list)
        for txn in self.possible:
            for f, k, v in txn.mops:
                if f == "r":
                    if v:
                        self._check_known(txn, k, v)
                        reads[k].add(v)
                else:
                    appends[k].append(v)
        orders = {k: [v[0]] for k, v in appends.items() if len(v) == 1}  # one append: [] then [v]
        for k, values in reads.items():
            ordered = sorted(values, key=len)
            for shorter, longer in pairwise(ordered):
                if longer[: len(shorter)] != shorter:
                    self.incompatible.append({"key": k, "values": [list(shorter), list(longer)]})
                    break
            orders[k] = list(dict.fromkeys(ordered[-1]))
        return orders

    def _check_known(self, txn: Txn, key: Any, read: tuple) -> None:
        for element in read:
            if (key, element) not in self.writer:
                raise MalformedHistory(
                    f"operation {txn.index} read element {element!r} of key {key!r}, which no "
                    "operation appended (a history must hold every transaction that wrote)"
                )

    def _readers(self) -> dict[Any, dict[Any, list[Txn]]]:
        """key -> the version read (its last element, or INIT) -> the transactions that read it."""
        readers: dict[Any, dict[Any, list[Txn]]] = defaultdict(lambda: defaultdict(list))
        for txn in self.possible:
            for f, k, v in txn.mops:
                # An info transaction's null read is the invocation's placeholder, not an observation.
                if f == "r" and not (v is None and txn.type == INFO):
                    readers[k][v[-1] if v else INIT].append(txn)
        return readers

    def previous(self, key: Any, element: Any) -> Any:
        """The element appended just before ``element`` (INIT if none); for an append nobody
        read, the last element read, since it came after that one."""
        order = self.orders.get(key)
        if not order:
            return INIT
        i = self.index[key].get(element)
        if i is None:
            return order[-1]
        return order[i - 1] if i > 0 else INIT

    def _possible_writer(self, key: Any, element: Any) -> Txn | None:
        txn = self.writer.get((key, element))
        return txn if txn is not None and txn.type != FAIL else None

    # The graph

    def graph(self) -> DependencyGraph:
        """ww, wr and rw edges between the ok and info transactions."""
        graph = DependencyGraph(self.txns)
        readers = self.readers
        for txn in self.possible:
            for f, k, v in txn.mops:
                if f == "append":
                    prev = self.previous(k, v)
                    if prev is not INIT:
                        w = self._possible_writer(k, prev)
                        if w is not None:
                            graph.link(w, txn, WW)
                    if k in readers:
                        graph.link_all(readers[k].get(prev, ()), txn, RW)
                elif v:
                    w = self._possible_writer(k, v[-1])
                    if w is not None:
                        graph.link(w, txn, WR)
        return graph

    def explain(self, a: Txn, b: Txn, rel: int) -> dict[str, Any] | None:
        """Why ``a`` precedes ``b`` by ``rel``: Elle's step map (``value`` None for the empty list)."""
        for f, k, v in b.mops:
            if rel == WR and f == "r" and v and self._possible_writer(k, v[-1]) is a:
                return {"type": "wr", "key": k, "value": v[-1]}
            if f != "append":
                continue
            prev = self.previous(k, v)
            if rel == WW and prev is not INIT and self._possible_writer(k, prev) is a:
                return {"type": "ww", "key": k, "value": prev, "value'": v}
            if rel == RW and a in self.readers.get(k, {}).get(prev, ()):
                return {"type": "rw", "key": k, "value": None if prev is INIT else prev, "value'": v}
        return None

    # Anomalies without cycles

    def anomalies(self) -> dict[str, list[dict[str, Any]]]:
        found: dict[str, list[dict[str, Any]]] = defaultdict(list)
        intermediate = self._intermediate()
        for txn in self.txns:
            if txn.type == OK:
                self._reads_of(txn, intermediate, found)
                self._internal(txn, found)
            if txn.type in (OK, INFO):
                self._duplicates(txn, found)
        if self.incompatible:
            found["incompatible-order"] = self.incompatible
        for case in self._dirty_updates():
            found["dirty-update"].append(case)
        for case in self._lost_updates():
            found["lost-update"].append(case)
        return dict(found)

    def _intermediate(self) -> dict[tuple[Any, Any], Txn]:
        """(key, element) -> its transaction, for every append that was not its last to the key."""
        found = {}
        for txn in self.txns:
            last: dict[Any, Any] = {}
            for f, k, v in txn.mops:
                if f == "append":
                    if k in last:
                        found[(k, last[k])] = txn
                    last[k] = v
        return found

    def _reads_of(self, txn: Txn, intermediate: dict, found: dict) -> None:
        for mop in txn.mops:
            f, k, v = mop
            if f != "r" or not v:
                continue
            for element in v:
                writer = self.writer[(k, element)]
                if writer.type == FAIL:
                    found["G1a"].append(_case(txn, mop, writer, element))
            last_writer = intermediate.get((k, v[-1]))
            if last_writer is not None and last_writer is not txn:
                found["G1b"].append(_case(txn, mop, last_writer, v[-1]))

    def _internal(self, txn: Txn, found: dict) -> None:
        """A read that disagrees with the transaction's own earlier reads and appends (Elle's
        INT), or that holds an element the transaction only appends later (future-read)."""
        state: dict[Any, list[Any]] = {}
        seen: dict[tuple[Any, Any], Mop] = {}
        for mop in txn.mops:
            f, k, v = mop
            if f == "append":
                if (k, v) in seen:
                    found["future-read"].append({"op": txn.op, "mop": mop_json(seen[(k, v)]), "element": v})
                    return
                state[k] = [*state.get(k, [_UNKNOWN]), v]
                continue
            read = list(v or ())
            expected = state.get(k)
            if expected is not None and not _agrees(expected, read):
                shown = ["..." if e is _UNKNOWN else e for e in expected]
                found["internal"].append({"op": txn.op, "mop": mop_json(mop), "expected": shown})
                return
            state[k] = read
            seen.update(((k, e), mop) for e in read)

    def _duplicates(self, txn: Txn, found: dict) -> None:
        for mop in txn.mops:
            f, _, v = mop
            if f == "r" and v and len(set(v)) != len(v):
                dups = {str(e): n for e, n in Counter[Any](v).items() if n > 1}
                found["duplicate-elements"].append({"op": txn.op, "mop": mop_json(mop), "duplicates": dups})

    def _dirty_updates(self) -> list[dict[str, Any]]:
        """A failed transaction's append in the version order, followed by a committed append."""
        cases = []
        for k, order in self.orders.items():
            t1: Txn | None = None  # the last appender whose outcome is known (none yet: as if ok)
            values: list[Any] = []
            for element in order:
                t2 = self.writer[(k, element)]
                t1_failed = t1 is not None and t1.type == FAIL
                if t1 is not None and t1_failed and t2.type == OK:
                    cases.append({"key": k, "values": [*values, element], "txns": [t1.op, "...", t2.op]})
                if t2.type == INFO or (t2.type == FAIL and t1_failed):
                    values.append(element)  # unknown (or still aborted): keep the range
                    continue
                t1, values = t2, [element]
        return cases

    def _lost_updates(self) -> list[dict[str, Any]]:
        """Committed transactions that read the same version of a key and then appended to it."""
        groups: dict[tuple[Any, tuple], list[Txn]] = defaultdict(list)
        for txn in self.txns:
            if txn.type != OK:
                continue
            first_read: dict[Any, tuple] = {}
            wrote: set[Any] = set()
            for f, k, v in txn.mops:
                if f == "r":
                    first_read.setdefault(k, tuple(v or ()))
                elif k in first_read and k not in wrote:
                    wrote.add(k)
                    groups[(k, first_read[k])].append(txn)
        return [
            {"key": k, "value": list(v), "txns": [t.op for t in txns]}
            for (k, v), txns in groups.items()
            if len(txns) > 1
        ]


def _agrees(expected: list[Any], read: list[Any]) -> bool:
    if expected and expected[0] is _UNKNOWN:  # appended without reading first: a known suffix
        suffix = expected[1:]
        return len(read) >= len(suffix) and read[len(read) - len(suffix) :] == suffix
    return expected == read


def _case(txn: Txn, mop: Mop, writer: Txn, element: Any) -> dict[str, Any]:
    return {"op": txn.op, "mop": mop_json(mop), "writer": writer.op, "element": element}
