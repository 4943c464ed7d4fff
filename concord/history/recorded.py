"""An Elle history from what racing workers reported (`concord.race.scenarios.list_append.program`).

Each worker reports its attempts in order: (type, started, ended, micro-operations). Each
becomes an invocation (reads null) and a completion (``ok`` with the values read, ``fail`` with
the invocation's value), with the worker as the process; the workers' sequences are merged by
time, each kept in its own order, and numbered.

An attempt a worker never reported (it died at COMMIT, say) may still have committed: when a
read shows an element no reported attempt appended, the element names its worker (values are
``n * workers + worker``), and the worker gets an ``info`` transaction with those appends, the
fate-unknown completion Elle expects for it.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Iterable
from typing import Any


def assemble(payloads: Iterable[tuple[int, list[tuple]]], workers: int) -> list[dict[str, Any]]:
    """Elle's operations, numbered, from ``(worker, [record, ...])`` payloads."""
    per_worker: dict[int, list[tuple[float, dict[str, Any]]]] = defaultdict(list)
    appended: set[tuple[int, Any]] = set()
    for worker, records in payloads:
        for kind, started, ended, mops in records:
            invoked = [[f, k, None if f == "r" else v] for f, k, v in mops]
            completed = [[f, k, v] for f, k, v in mops] if kind == "ok" else invoked
            events = per_worker[worker]
            events.append((started, _op(worker, "invoke", invoked, started)))
            events.append((ended, _op(worker, kind, completed, ended)))
            appended.update((k, v) for f, k, v in mops if f == "append")
    merged = [op for _, op in heapq.merge(*per_worker.values(), key=lambda event: event[0])]
    merged += _unreported(merged, appended, workers)
    for index, op in enumerate(merged):
        op["index"] = index
    return merged


def _op(worker: int, kind: str, value: list, seconds: float) -> dict[str, Any]:
    return {"process": worker, "type": kind, "f": "txn", "value": value, "time": int(seconds * 1e9)}


def _unreported(ops: list[dict[str, Any]], appended: set, workers: int) -> list[dict[str, Any]]:
    unknown: dict[int, list[list[Any]]] = defaultdict(list)
    seen = set()
    for op in ops:
        if op["type"] != "ok":
            continue
        for f, k, v in op["value"]:
            for element in (v or ()) if f == "r" else ():
                if (k, element) not in appended and (k, element) not in seen:
                    seen.add((k, element))
                    unknown[element % workers].append(["append", k, element])
    end = max((op["time"] for op in ops), default=0)
    extra = []
    for worker, appends in sorted(unknown.items()):
        extra.append({"process": worker, "type": "invoke", "f": "txn", "value": appends, "time": end})
        extra.append({"process": worker, "type": "info", "f": "txn", "value": appends, "time": end})
    return extra
