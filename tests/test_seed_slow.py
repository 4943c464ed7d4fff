"""The million- and ten-million-task seeds, outside the default run (``pytest -m slow``):
benchmarks, not timed tests.

They print the rate and check that the load is complete, planned well and as big as announced;
the time is only reported, since a shared 2-core machine makes any bound flaky.
"""

from __future__ import annotations

import psycopg
import pytest
from conftest import libpq

from concord.explain import Explained, explain_all
from concord.seed import SeedPlan, Step, seed

pytestmark = pytest.mark.slow


def test_a_million_tasks_load_and_every_query_on_tasks_keeps_its_index(database_url, capsys):
    steps: list[Step] = []
    report = seed(database_url, SeedPlan(tasks=1_000_000), progress=steps.append)

    with capsys.disabled():
        print(
            f"\nseed: {report.total_rows:,} rows in {report.seconds:.1f} s "
            f"({report.rows_per_second:,.0f} rows/s), phases {report.as_dict()['phases']}"
        )
    with psycopg.connect(libpq(database_url)) as conn:
        assert conn.execute("SELECT count(*) FROM tasks").fetchone() == (1_000_000,)
    planned = [e for e in explain_all(database_url) if isinstance(e, Explained)]
    assert [e.name for e in planned if "tasks" in e.plan.seq_scanned()] == []
    # The bar moved inside index builds: the server's progress view gave fractions of one.
    assert any(step.phase == "indexes" and step.done % 1 for step in steps)


def test_ten_million_tasks_load_as_big_as_announced_and_plans_keep_their_indexes(database_url, capsys):
    report = seed(database_url, SeedPlan(tasks=10_000_000))

    with capsys.disabled():
        print(
            f"\nseed: {report.total_rows:,} rows in {report.seconds:.1f} s "
            f"({report.rows_per_second:,.0f} rows/s), phases {report.as_dict()['phases']}, "
            f"{report.bytes / 2**30:.2f} GiB (estimated {report.estimated_bytes / 2**30:.2f})"
        )
    with psycopg.connect(libpq(database_url)) as conn:
        assert conn.execute("SELECT count(*), max(id) FROM activity").fetchone() == (10_000_000, 10_000_000)
    assert abs(report.bytes - report.estimated_bytes) < 0.1 * report.bytes
    planned = [e for e in explain_all(database_url) if isinstance(e, Explained)]
    assert [e.name for e in planned if {"tasks", "activity"} & set(e.plan.seq_scanned())] == []
