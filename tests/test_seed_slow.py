"""The million-task seed, outside the default run (``pytest -m slow``): a benchmark, not a timed test.

It prints the rate and checks that the load is complete and planned well; the time is only
reported, since a shared 2-core machine makes any bound flaky.
"""

from __future__ import annotations

import psycopg
import pytest
from conftest import libpq

from concord.explain import Explained, explain_all
from concord.seed import SeedPlan, seed

pytestmark = pytest.mark.slow


def test_a_million_tasks_load_and_every_query_on_tasks_keeps_its_index(database_url, capsys):
    report = seed(database_url, SeedPlan(tasks=1_000_000))

    with capsys.disabled():
        print(
            f"\nseed: {report.total_rows:,} rows in {report.seconds:.1f} s "
            f"({report.rows_per_second:,.0f} rows/s), phases {report.as_dict()['phases']}"
        )
    with psycopg.connect(libpq(database_url)) as conn:
        assert conn.execute("SELECT count(*) FROM tasks").fetchone() == (1_000_000,)
    planned = [e for e in explain_all(database_url) if isinstance(e, Explained)]
    assert [e.name for e in planned if "tasks" in e.plan.seq_scanned()] == []
