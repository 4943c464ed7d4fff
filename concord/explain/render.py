"""Plans drawn with Rich: a tree per plan, two trees side by side, and the summary table."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich import box
from rich.console import Group
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from concord.explain.indexes import IndexAudit
from concord.explain.plan import Plan, PlanNode
from concord.explain.runner import Comparison, Explained, Skipped


def plan_tree(plan: Plan, title: str) -> Tree:
    """The plan as a tree: node type, relation and index, rows estimated vs actual, loops, time,
    buffers, and the flags in red under the node that raised them."""
    tree = Tree(Text(title, style="bold"))
    _add(tree, plan.root)
    timing = []
    if plan.planning_ms is not None:
        timing.append(f"planning {plan.planning_ms:.3f} ms")
    if plan.execution_ms is not None:
        timing.append(f"execution {plan.execution_ms:.3f} ms")
    for trigger in plan.document[0].get("Triggers", []):
        timing.append(f"{_trigger_name(trigger)} {trigger.get('Time', 0):.3f} ms x {trigger.get('Calls')}")
    if timing:
        tree.add(Text(" · ".join(timing), style="dim"))
    return tree


def explained(item: Explained) -> Group:
    """The statement, its parameters and its plan tree."""
    params = ", ".join(f"{k}={v!r}" for k, v in item.params.items()) or "no parameters"
    header = Text.assemble((item.name, "bold cyan"), f"  {item.description}  ", (f"[{params}]", "dim"))
    return Group(
        header,
        Syntax(item.statement.sql, "sql", word_wrap=True, theme="ansi_dark"),
        plan_tree(item.plan, _title(item)),
    )


def comparison(item: Comparison) -> Group:
    """The plan with the index and without it, side by side, and what the index buys."""
    left = Panel(plan_tree(item.with_index.plan, _title(item.with_index)), title=f"with {item.index}")
    right = Panel(
        plan_tree(item.without_index.plan, _title(item.without_index)), title=f"without {item.index}"
    )
    sides = Table.grid(expand=True, padding=(0, 1))
    sides.add_column(ratio=1)
    sides.add_column(ratio=1)
    sides.add_row(left, right)
    return Group(
        Text.assemble((item.with_index.name, "bold cyan"), f"  {item.with_index.description}"),
        sides,
        Text(_verdict(item)),
    )


def summary(items: list[Explained | Skipped]) -> Table:
    """One row per query: plan shape, indexes read, sequential scans, time, flags."""
    analyzed = any(i.plan.analyzed for i in items if isinstance(i, Explained))
    table = Table()
    table.add_column("query", no_wrap=True)
    table.add_column("plan shape")
    table.add_column("index used", overflow="fold")
    table.add_column("time ms" if analyzed else "cost", justify="right")
    table.add_column("flags", overflow="fold")
    for item in items:
        if isinstance(item, Skipped):
            table.add_row(item.name, Text(f"skipped: {item.reason}", style="dim"), "", "", "")
            continue
        plan = item.plan
        table.add_row(
            item.name,
            plan.shape(),
            _index_cell(item),
            _time(plan),
            Text("; ".join(f.kind for f in plan.flags()), style="red"),
        )
    return table


def listing(entries: list[dict[str, Any]]) -> Table:
    """The named queries with their parameters and the defaults the data gives them."""
    table = Table("name", "description", "parameters (default)")
    for entry in entries:
        params = ", ".join(f"{k}={v!r}" for k, v in entry["params"].items())
        table.add_row(entry["name"], entry["description"], params or "-")
    return table


def _add(parent: Tree, node: PlanNode) -> None:
    branch = parent.add(_label(node))
    for flag in node.flags:
        branch.add(Text(f"⚠ {flag.message}", style="bold red"))
    for child in node.children:
        _add(branch, child)


def _label(node: PlanNode) -> Text:
    raw = node.raw
    text = Text(node.node_type, style="bold")
    if raw.get("Parent Relationship") in ("InitPlan", "SubPlan"):
        text.append(f" ({raw['Parent Relationship']})", style="dim")
    if node.index:
        text.append(f" using {node.index}", style="green")
    if node.relation:
        text.append(f" on {node.relation}", style="cyan")
    cond = raw.get("Index Cond") or raw.get("Recheck Cond") or raw.get("Filter")
    if cond:
        text.append(f" {cond}", style="dim")
    actual = node.actual_rows
    if actual is None:
        text.append(f"  rows est {node.estimated_rows:,.0f}  cost {raw.get('Total Cost', 0):,.2f}")
    elif not node.loops:
        text.append(f"  rows est {node.estimated_rows:,.0f}  (never executed)", style="dim")
    else:
        text.append(
            f"  rows est {node.estimated_rows:,.0f} / act {actual:,.0f}  x {node.loops} loop"
            f"{'s' if node.loops != 1 else ''}  {node.total_ms:.3f} ms"
        )
    buffers = _buffers(raw)
    if buffers:
        text.append(f"  buffers {buffers}", style="dim")
    return text


def _buffers(raw: Mapping[str, Any]) -> str:
    parts = [
        (label, raw.get(key, 0))
        for label, key in (
            ("hit", "Shared Hit Blocks"),
            ("read", "Shared Read Blocks"),
            ("dirtied", "Shared Dirtied Blocks"),
            ("temp written", "Temp Written Blocks"),
        )
    ]
    return " ".join(f"{label} {value}" for label, value in parts if value)


def _title(item: Explained) -> str:
    kind = "EXPLAIN ANALYZE" if item.plan.analyzed else "EXPLAIN"
    return f"{kind} {item.name} (rolled back)"


def _index_cell(item: Explained) -> Text:
    plan = item.plan
    large = {flag.relation for flag in plan.flags() if flag.kind == "seq_scan_large_table"}
    if plan.seq_scanned():
        scans = [f"seq scan {t}{'' if t in large else ' (small table)'}" for t in plan.seq_scanned()]
        if item.full_listing:
            scans = [f"{scan} (full listing)" for scan in scans]
        style = "bold red" if large and not item.full_listing else "yellow"
        return Text(", ".join(plan.indexes() + scans), style=style)
    if plan.indexes():
        return Text(", ".join(plan.indexes()), style="green")
    return Text("- (reads no table)", style="dim")


def _time(plan: Plan) -> str:
    if plan.execution_ms is not None:
        return f"{plan.execution_ms:.3f}"
    return f"{plan.root.raw.get('Total Cost', 0):,.2f}"


def _trigger_name(trigger: dict[str, Any]) -> str:
    constraint = trigger.get("Constraint Name")
    return f"trigger of {constraint}" if constraint else str(trigger.get("Trigger Name"))


def _verdict(item: Comparison) -> str:
    with_plan, without_plan = item.with_index.plan, item.without_index.plan
    fast, slow = with_plan.execution_ms, without_plan.execution_ms
    ratio = slow / max(fast, 0.001) if fast is not None and slow is not None else None
    if with_plan.shape() == without_plan.shape() and with_plan.indexes() == without_plan.indexes():
        triggers = [_trigger_name(t) for t in without_plan.document[0].get("Triggers", [])]
        if ratio is not None and ratio >= 3 and triggers:
            return (
                f"same plan, but {ratio:,.1f}x slower without {item.index} ({fast:.3f} ms -> {slow:.3f} ms): "
                f"the {', '.join(triggers)} (not part of the plan tree) used it"
            )
        return f"same plan without {item.index}: this query does not depend on it"
    if ratio is not None:
        speed = f"{ratio:,.1f}x faster" if ratio >= 1 else f"{1 / ratio:,.1f}x slower (a small table)"
        return (
            f"{item.index} turns {without_plan.shape()} ({slow:.3f} ms) into "
            f"{with_plan.shape()} ({fast:.3f} ms): {speed}"
        )
    return f"{item.index} turns {without_plan.shape()} into {with_plan.shape()}"


def index_audit(audit: IndexAudit) -> Group:
    """Foreign keys and their supporting indexes, then every index and who uses it."""
    names = [fk.constraint for fk in audit.foreign_keys]
    keys = _folding_table(
        "foreign key", "table (columns)", "supporting index", title="foreign keys", names=names
    )
    for fk in audit.foreign_keys:
        keys.add_row(
            fk.constraint,
            f"{fk.table} ({', '.join(fk.columns)})",
            Text(fk.index, style="green") if fk.index else Text("NONE", style="bold red"),
        )
    styles = {
        "used": "green",
        "constraint only": "yellow",
        "foreign key only": "yellow",
        "unused": "bold red",
    }
    names = [ix.index for ix in audit.indexes]
    indexes = _folding_table(
        "index", "table", "verdict", "used by", "enforces / supports", title="indexes", names=names
    )
    for ix in audit.indexes:
        reasons = ", ".join(filter(None, [ix.enforces, *ix.supports]))
        indexes.add_row(
            ix.index,
            ix.table,
            Text(ix.verdict, style=styles[ix.verdict]),
            ", ".join(ix.used_by) or "-",
            reasons or "-",
        )
    problems = [Text(f"⚠ {p}", style="bold red") for p in audit.problems] or [
        Text(
            "every foreign key has a supporting index; every index is used or enforces something",
            style="green",
        )
    ]
    return Group(keys, indexes, *problems)


def _folding_table(*headers: str, title: str, names: list[str]) -> Table:
    """A table that cuts nothing: its first column (``names``) whole on one line, so a name can be
    pasted, the others wrapping onto the next line instead of ending in an ellipsis."""
    table = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    first, *rest = headers
    table.add_column(first, no_wrap=True, min_width=max(map(len, names), default=len(first)))
    for header in rest:
        table.add_column(header, overflow="fold")
    return table
