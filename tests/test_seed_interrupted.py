"""A seed that fails or is interrupted leaves the database as it was, and nothing running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import psycopg
import pytest
from conftest import libpq

from concord.seed import ExistingData, SeedPlan, Step, seed

FIRST = SeedPlan(boards=3, lists_per_board=2, tasks=500, users=4, seed=1)
SECOND = SeedPlan(boards=5, lists_per_board=3, tasks=70_000, users=9, seed=2)

STATE = """
SELECT (SELECT count(*) FROM tasks), (SELECT count(*) FROM activity), (SELECT count(*) FROM users),
       (SELECT md5(string_agg(concat_ws('|', id, list_id, title, position, assignee_id), ',' ORDER BY id))
          FROM tasks),
       (SELECT string_agg(indexname, ',' ORDER BY indexname) FROM pg_indexes WHERE schemaname = 'public'),
       (SELECT string_agg(conname, ',' ORDER BY conname) FROM pg_constraint
         WHERE connamespace = 'public'::regnamespace)"""


def state(url) -> tuple:
    with psycopg.connect(libpq(url)) as conn:
        return conn.execute(STATE).fetchone()


def seed_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("concord-seed")]


@pytest.mark.parametrize("phase", ["copy", "analyze", "indexes", "keys"])
def test_an_interrupt_in_any_phase_of_a_reset_leaves_the_earlier_data_and_no_thread(database_url, phase):
    seed(database_url, FIRST)
    before = state(database_url)

    def interrupt(step: Step) -> None:
        # In the copy phase: once some task rows are in, while the next pieces are being built.
        on_main = threading.current_thread() is threading.main_thread()
        far_enough = phase != "copy" or (step.what == "tasks" and step.done > 2 * FIRST.tasks)
        if step.phase == phase and on_main and far_enough:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        seed(database_url, SECOND, existing=ExistingData.RESET, progress=interrupt)

    assert state(database_url) == before
    assert seed_threads() == []


def test_the_progress_goes_through_every_phase_and_ends_each_one_complete(database_url):
    steps: list[Step] = []

    seed(database_url, FIRST, progress=steps.append)

    phases = list(dict.fromkeys(step.phase for step in steps))
    last = {step.phase: step for step in steps}
    assert phases == ["copy", "analyze", "indexes", "keys"]
    assert last["copy"].done == last["copy"].total == FIRST.total_rows()
    assert all(step.done == step.total for step in last.values())
    assert [s.what for s in steps if s.phase == "keys"][:-1] == [
        "fk_activity_board_id_boards",
        "fk_activity_task_id_tasks",
        "fk_task_lists_board_id_boards",
        "fk_tasks_assignee_id_users",
        "fk_tasks_list_id_task_lists",
    ]


def test_sigterm_while_the_indexes_are_built_exits_143_and_keeps_the_earlier_data(database_url):
    seed(database_url, FIRST)
    before = state(database_url)
    url = database_url.render_as_string(hide_password=False)
    environ = {k: v for k, v in os.environ.items() if k not in ("CONCORD_DATABASE_URL", "CONCORD_DEBUG")}
    command = [sys.executable, "-m", "concord", "seed", "--tasks", "300000", "--reset", "--yes"]
    child = subprocess.Popen(
        [*command, "--database-url", url],
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # The server says when the seed's backend is building an index: that is when to stop it.
        with psycopg.connect(libpq(database_url), autocommit=True) as watcher:
            deadline = time.monotonic() + 60
            while not watcher.execute(
                "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = current_database() "
                "AND query LIKE 'CREATE INDEX%%' AND state = 'active')"
            ).fetchone()[0]:
                assert child.poll() is None and time.monotonic() < deadline, "the seed never built an index"
                time.sleep(0.01)  # polling the server's state, not lining anything up
        child.send_signal(signal.SIGTERM)
        _, stderr = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()

    assert (child.returncode, stderr.splitlines()[-1]) == (143, "concord: terminated")
    assert state(database_url) == before
