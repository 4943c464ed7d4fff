"""Cycles drawn for people: Graphviz DOT and Mermaid flowcharts, one cluster per cycle.

Each transaction is a node labelled with its index and micro-operations; each step an edge
labelled with its relation and key (``rw 632``), rw edges dashed, as Elle draws them.
"""

from __future__ import annotations

import json

from concord.history.check import FoundCycle
from concord.history.model import Txn


def _label(txn: Txn) -> str:
    mops = " ".join(
        f"{f}({k}{'' if v is None else ' ' + json.dumps(list(v) if isinstance(v, tuple) else v)})"
        for f, k, v in txn.mops
    )
    return f"T{txn.index}: {mops}"


def _edge_label(step: dict) -> str:
    return f"{step['type']} {step['key']}"


def to_dot(cycles: list[FoundCycle]) -> str:
    """One ``digraph`` with a subgraph per cycle."""
    lines = ["digraph anomalies {", "  node [shape=box, fontname=monospace];"]
    for n, cycle in enumerate(cycles):
        lines.append(f"  subgraph cluster_{n} {{ label={json.dumps(f'{cycle.type} #{n}')};")
        for txn in cycle.txns:
            lines.append(f"    c{n}_t{txn.index} [label={json.dumps(_label(txn))}];")
        for i, step in enumerate(cycle.steps):
            a, b = cycle.txns[i], cycle.txns[(i + 1) % len(cycle.txns)]
            style = ", style=dashed" if step["type"] == "rw" else ""
            label = json.dumps(_edge_label(step))
            lines.append(f"    c{n}_t{a.index} -> c{n}_t{b.index} [label={label}{style}];")
        lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_mermaid(cycles: list[FoundCycle]) -> str:
    """A Mermaid ``flowchart`` with a subgraph per cycle."""
    lines = ["flowchart LR"]
    for n, cycle in enumerate(cycles):
        lines.append(f'  subgraph c{n}["{cycle.type} #{n}"]')
        for txn in cycle.txns:
            lines.append(f'    c{n}_t{txn.index}["{_mermaid_text(_label(txn))}"]')
        for i, step in enumerate(cycle.steps):
            a, b = cycle.txns[i], cycle.txns[(i + 1) % len(cycle.txns)]
            arrow = "-.->" if step["type"] == "rw" else "-->"
            lines.append(f'    c{n}_t{a.index} {arrow}|"{_edge_label(step)}"| c{n}_t{b.index}')
        lines.append("  end")
    return "\n".join(lines) + "\n"


def _mermaid_text(text: str) -> str:
    return text.replace('"', "#quot;")
