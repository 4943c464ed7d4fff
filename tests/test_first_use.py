"""First use is safe under concurrency: the embedded server, its database and the schema."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa

from concord.db import migrate
from concord.db.engine import create_engine
from concord.models import Base


def concord(home: Path, *args: str) -> subprocess.Popen:
    environ = {k: v for k, v in os.environ.items() if k not in ("CONCORD_DATABASE_URL", "CONCORD_DEBUG")}
    return subprocess.Popen(
        [sys.executable, "-m", "concord", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**environ, "CONCORD_HOME": str(home)},
    )


@pytest.fixture(params=["concord-first-", "concord first "], ids=["plain", "with-spaces"])
def fresh_home(request):
    """A CONCORD_HOME with nothing in it (short, so the socket path fits); its server stopped after."""
    home = Path(tempfile.mkdtemp(prefix=request.param))
    yield home
    stop = concord(home, "db", "stop")
    stop.communicate(timeout=60)
    shutil.rmtree(home, ignore_errors=True)
    for alias in Path(tempfile.gettempdir()).glob("concord-pg-*"):
        if not alias.exists():  # the space-free link to a home that is gone
            alias.unlink()


def test_four_commands_started_together_on_a_fresh_home_all_succeed(fresh_home):
    # Started back to back, the four processes meet while the first still runs initdb, starts
    # the server, creates the database and migrates it: every step is contended.
    processes = [concord(fresh_home, "board", "list", "--json") for _ in range(4)]
    outcomes = [(p.wait(timeout=180), *p.communicate()) for p in processes]

    assert outcomes == [(0, "[]\n", "")] * 4


def _waiting_on_the_migration_lock(url, database: str) -> bool:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
            "WHERE l.locktype = 'advisory' AND NOT l.granted AND a.datname = %s",
            (database,),
        ).fetchone()
    return row[0] == 1


def test_ensure_schema_waits_for_a_migration_under_way_instead_of_calling_its_tables_foreign(
    empty_database_url,
):
    """Alembic commits each migration on its own: between two of them the tables exist and the
    stamp does not yet. A second process arriving then must wait for the lock, not refuse."""
    dsn = empty_database_url.set(drivername="postgresql").render_as_string(hide_password=False)
    engine = create_engine(empty_database_url, poolclass=sa.NullPool)
    outcome: list[object] = []
    with psycopg.connect(dsn, autocommit=True) as migrating:
        migrating.execute("SELECT pg_advisory_lock(%s)", (migrate.MIGRATION_LOCK_KEY,))
        with create_engine(empty_database_url, poolclass=sa.NullPool).begin() as conn:
            Base.metadata.create_all(conn)  # the first migration's work, committed, not yet stamped

        def second_process() -> None:
            try:
                outcome.append(migrate.ensure_schema(engine))
            except Exception as exc:  # recorded, and asserted on below
                outcome.append(exc)

        thread = threading.Thread(target=second_process)
        thread.start()
        deadline = time.monotonic() + 30
        # Observe the server's own lock-wait state (or the thread's early end, the bug).
        while thread.is_alive() and not _waiting_on_the_migration_lock(dsn, empty_database_url.database):
            assert time.monotonic() < deadline, "ensure_schema neither waited nor ended"
            time.sleep(0.02)
        migrating.execute("CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY)")
        migrating.execute("INSERT INTO alembic_version VALUES (%s)", (migrate.head_revision(),))
        migrating.execute("SELECT pg_advisory_unlock(%s)", (migrate.MIGRATION_LOCK_KEY,))
        thread.join(timeout=30)
    engine.dispose()

    assert outcome == [migrate.head_revision()]
