"""Cycles and steps in words a person can follow, in the manner of Elle's explanations."""

from __future__ import annotations

import json
from typing import Any

from concord.history.model import Txn


def describe_step(step: dict[str, Any], a: str, b: str, model: str = "list-append") -> str:
    """Why ``a`` precedes ``b``, from one step map (``ww``, ``wr``, ``rw``)."""
    kind, key = step["type"], _show(step["key"])
    value, after = step.get("value"), step.get("value'")
    if model == "rw-register":
        if kind == "ww":
            return f"{b} wrote {_show(after)} over {a}'s {_show(value)} at key {key}"
        if kind == "wr":
            return f"{b} read {a}'s write of {_show(value)} to key {key}"
        return f"{a} read {_show(value)} at key {key}, which {b} overwrote with {_show(after)}"
    if kind == "ww":
        return f"{b} appended {_show(after)} after {a} appended {_show(value)} to key {key}"
    if kind == "wr":
        return f"{b} observed {a}'s append of {_show(value)} to key {key}"
    if value is None:
        return f"{a} read key {key} empty, and {b} created it by appending {_show(after)}"
    return f"{a} did not observe {b}'s append of {_show(after)} to key {key} (it read up to {_show(value)})"


def explain_cycle(kind: str, txns: list[Txn], steps: list[dict[str, Any]], model: str = "list-append") -> str:
    """``Let: T1 = ...; Then: T1 < T2 because ...; However, Tn < T1 because ...: a contradiction!``"""
    names = [f"T{i + 1}" for i in range(len(txns))]
    lines = [f"{kind}", "Let:"]
    lines += [f"  {name} = {describe_txn(txn)}" for name, txn in zip(names, txns, strict=True)]
    lines.append("Then:")
    last = len(steps) - 1
    for i, step in enumerate(steps):
        a, b = names[i], names[(i + 1) % len(names)]
        because = describe_step(step, a, b, model)
        if i < last:
            lines.append(f"  - {a} < {b}, because {because}.")
        else:
            lines.append(f"  - However, {a} < {b}, because {because}: a contradiction!")
    return "\n".join(lines)


def describe_txn(txn: Txn) -> str:
    """One transaction as Elle shows it: index, process, outcome and micro-operations."""
    mops = json.dumps([[f, k, list(v) if isinstance(v, tuple) else v] for f, k, v in txn.mops])
    return f"index {txn.index}, process {txn.process}, {txn.type}: {mops}"


def _show(value: Any) -> str:
    return json.dumps(value)
