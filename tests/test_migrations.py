"""The migrations build exactly the schema the models describe, and run down and up again."""

from __future__ import annotations

import os
import subprocess
import sys

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from concord.db import migrate
from concord.db.engine import create_engine
from concord.models import Base

EXPECTED_TABLES = {"users", "boards", "task_lists", "tasks", "activity"}


def _drift(engine: sa.Engine) -> list:
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        return compare_metadata(context, Base.metadata)


def test_fresh_database_upgraded_to_head_matches_the_models(empty_database_url):
    engine = create_engine(empty_database_url, poolclass=sa.NullPool)
    migrate.upgrade(engine)
    assert _drift(engine) == []
    inspector = sa.inspect(engine)
    assert set(inspector.get_table_names()) >= EXPECTED_TABLES
    checks = {c["name"] for c in inspector.get_check_constraints("tasks")}
    assert {
        "ck_tasks_version_positive",
        "ck_tasks_position_non_negative",
        "ck_tasks_title_not_blank",
    } <= checks
    engine.dispose()


def test_downgrade_to_base_and_upgrade_again_leave_no_drift(empty_database_url):
    engine = create_engine(empty_database_url, poolclass=sa.NullPool)
    migrate.upgrade(engine)
    migrate.downgrade(engine, "base")
    assert set(sa.inspect(engine).get_table_names()) == {"alembic_version"}
    migrate.upgrade(engine)
    assert _drift(engine) == []
    with engine.connect() as conn:
        assert migrate.current_revision(conn) == migrate.head_revision()
    engine.dispose()


def test_every_foreign_key_has_an_index_that_starts_with_its_column(empty_database_url):
    engine = create_engine(empty_database_url, poolclass=sa.NullPool)
    migrate.upgrade(engine)
    inspector = sa.inspect(engine)
    for table in EXPECTED_TABLES:
        leading = {tuple(ix["column_names"][:1]) for ix in inspector.get_indexes(table)}
        leading |= {tuple(inspector.get_pk_constraint(table)["constrained_columns"][:1])}
        for fk in inspector.get_foreign_keys(table):
            assert tuple(fk["constrained_columns"][:1]) in leading, (table, fk["name"])
    engine.dispose()


def test_alembic_command_line_upgrades_an_empty_database(empty_database_url, repo_root):
    url = empty_database_url.render_as_string(hide_password=False)
    result = subprocess.run(
        [sys.executable, "-m", "alembic", "-x", f"url={url}", "upgrade", "head"],
        cwd=repo_root,
        capture_output=True,
        text=True,
        env={**os.environ},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    engine = create_engine(empty_database_url, poolclass=sa.NullPool)
    assert _drift(engine) == []
    engine.dispose()
