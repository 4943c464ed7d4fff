"""Query plans of the library's real queries (`concord explain`, `concord db indexes`).

    from concord.explain import explain_query, explain_all
    explained = explain_query(url, "tasks_in_list", {"list_id": 7})
    print(explained.plan.shape(), explained.plan.indexes(), explained.plan.flags())

Every explain runs in a transaction that is rolled back (`concord.explain.runner`), on statements
made by the library's own code (`concord.explain.registry`).
"""

from concord.explain.errors import ExplainFailed, ExplainUsageError
from concord.explain.plan import Flag, Plan, PlanNode
from concord.explain.registry import NamedQuery, registry
from concord.explain.runner import (
    Comparison,
    Explained,
    Skipped,
    describe_queries,
    explain_all,
    explain_query,
    explain_sql,
)

__all__ = [
    "Comparison",
    "ExplainFailed",
    "ExplainUsageError",
    "Explained",
    "Flag",
    "NamedQuery",
    "Plan",
    "PlanNode",
    "Skipped",
    "describe_queries",
    "explain_all",
    "explain_query",
    "explain_sql",
    "registry",
]
