"""Plan analysis on hand-made EXPLAIN documents: what gets flagged and what does not."""

from __future__ import annotations

from typing import Any

from concord.explain.plan import LARGE_TABLE_ROWS, Plan, analyse


def node(node_type: str, *children: dict[str, Any], **fields: Any) -> dict[str, Any]:
    raw = {"Node Type": node_type, **{key.replace("_", " "): value for key, value in fields.items()}}
    if children:
        raw["Plans"] = list(children)
    return raw


def plan_of(root: dict[str, Any], *, analyzed: bool = True) -> Plan:
    return Plan.parse([{"Plan": root, "Planning Time": 0.1, "Execution Time": 1.0}], analyzed=analyzed)


def kinds(plan: Plan) -> list[str]:
    return [flag.kind for flag in plan.flags()]


def test_a_sequential_scan_of_a_large_table_is_flagged():
    scan = node("Seq Scan", Relation_Name="tasks", Plan_Rows=5, Filter="(title = 'x'::text)")
    plan = analyse(plan_of(scan), {"tasks": LARGE_TABLE_ROWS})

    [flag] = plan.flags()
    assert (flag.kind, flag.relation) == ("seq_scan_large_table", "tasks")
    assert flag.message == "sequential scan of tasks (10,000 rows): no index serves this filter"


def test_a_sequential_scan_without_a_filter_says_it_reads_the_whole_table():
    plan = analyse(plan_of(node("Seq Scan", Relation_Name="tasks", Plan_Rows=5)), {"tasks": LARGE_TABLE_ROWS})

    [flag] = plan.flags()
    assert flag.message == "sequential scan of tasks (10,000 rows): it reads the whole table"


def test_a_sequential_scan_of_a_small_table_is_not_flagged():
    plan = analyse(plan_of(node("Seq Scan", Relation_Name="boards", Plan_Rows=5)), {"boards": 9_999})

    assert plan.flags() == []


def test_a_parallel_sequential_scan_counts_as_a_sequential_scan():
    root = node("Gather", node("Parallel Seq Scan", Relation_Name="tasks", Plan_Rows=5))
    plan = analyse(plan_of(root), {"tasks": 50_000})

    assert kinds(plan) == ["seq_scan_large_table"]
    assert plan.seq_scanned() == ["tasks"]


def test_an_estimate_off_by_more_than_ten_times_is_flagged():
    scan = node(
        "Index Scan", Relation_Name="tasks", Index_Name="ix", Plan_Rows=60, Actual_Rows=1200, Actual_Loops=1
    )
    plan = analyse(plan_of(scan), {"tasks": 100})

    [flag] = plan.flags()
    assert flag.kind == "misestimate"
    assert flag.message == "estimated 60 rows, got 1,200: off by 20x"


def test_an_estimate_off_by_ten_times_or_less_is_not_flagged():
    scan = node(
        "Index Scan", Relation_Name="tasks", Index_Name="ix", Plan_Rows=100, Actual_Rows=1000, Actual_Loops=1
    )

    assert analyse(plan_of(scan), {}).flags() == []


def test_tiny_row_counts_are_not_called_misestimates():
    scan = node(
        "Index Scan", Relation_Name="tasks", Index_Name="ix", Plan_Rows=0, Actual_Rows=9, Actual_Loops=1
    )

    assert analyse(plan_of(scan), {}).flags() == []


def test_nodes_below_a_limit_stop_early_and_are_not_called_misestimates():
    scan = node(
        "Index Scan", Relation_Name="tasks", Index_Name="ix", Plan_Rows=800, Actual_Rows=1, Actual_Loops=1
    )
    root = node("Limit", scan, Plan_Rows=1, Actual_Rows=1, Actual_Loops=1)

    assert analyse(plan_of(root), {}).flags() == []


def test_a_node_that_never_ran_is_not_called_a_misestimate():
    scan = node(
        "Index Scan", Relation_Name="tasks", Index_Name="ix", Plan_Rows=800, Actual_Rows=0, Actual_Loops=0
    )

    assert analyse(plan_of(scan), {}).flags() == []


def test_a_sort_that_spilled_to_disk_is_flagged():
    sort = node(
        "Sort",
        node("Seq Scan", Relation_Name="tasks", Plan_Rows=10),
        Sort_Method="external merge",
        Sort_Space_Used=4520,
        Sort_Space_Type="Disk",
    )
    plan = analyse(plan_of(sort), {"tasks": 10})

    [flag] = plan.flags()
    assert flag.kind == "sort_spilled"
    assert flag.message == "sort spilled to disk (external merge, 4520 kB): work_mem is too small for it"


def test_a_sort_in_memory_is_not_flagged():
    sort = node("Sort", Sort_Method="quicksort", Sort_Space_Used=25, Sort_Space_Type="Memory")

    assert analyse(plan_of(sort), {}).flags() == []


def test_the_shape_reads_the_tree_in_one_line():
    join = node("Nested Loop", node("Index Scan", Index_Name="a"), node("Seq Scan", Relation_Name="t"))
    plan = plan_of(node("Limit", node("Sort", join)))

    assert plan.shape() == "Limit > Sort > Nested Loop(Index Scan, Seq Scan)"


def test_indexes_are_listed_once_in_plan_order():
    root = node(
        "Append",
        node("Index Scan", Index_Name="b"),
        node("Bitmap Index Scan", Index_Name="a"),
        node("Index Only Scan", Index_Name="b"),
    )

    assert plan_of(root).indexes() == ["b", "a"]


def test_a_plan_without_analyze_has_no_actual_rows_and_no_misestimates():
    scan = node("Index Scan", Relation_Name="tasks", Index_Name="ix", Plan_Rows=5000)
    plan = analyse(plan_of(scan, analyzed=False), {"tasks": 10})

    assert plan.root.actual_rows is None
    assert plan.flags() == []
