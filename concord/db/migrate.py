"""Running concord's Alembic migrations from code.

The same revisions run from the command line (``alembic upgrade head`` with the top-level
alembic.ini) and from here, where the installed package carries them as ``concord._migrations``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from concord.errors import NotMigrated

# Key of the session advisory lock that serialises schema changes between concord processes
# (first 8 bytes of sha256(b"concord:migrate"), read as a signed big-endian int64).
MIGRATION_LOCK_KEY = 0x1B9E4DD7_5C2A6F13


def migrations_dir() -> Path:
    """The migrations directory: packaged as ``concord._migrations`` when installed, or the
    top-level ``migrations/`` of a source checkout whose ``concord/`` shadows the install."""
    try:
        return Path(str(resources.files("concord._migrations")))
    except ModuleNotFoundError:
        return Path(__file__).resolve().parents[2] / "migrations"


def alembic_config() -> Config:
    """An Alembic config pointing at the packaged migrations, with no ini file."""
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    cfg.set_main_option("path_separator", "os")
    return cfg


def head_revision() -> str:
    """The newest revision the code knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "concord ships at least one migration"
    return head


def current_revision(connection: sa.Connection) -> str | None:
    """The revision the database is stamped with, or None when it never was migrated."""
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: sa.Engine, revision: str = "head") -> None:
    """Migrate the database up to ``revision``."""
    _run(engine, command.upgrade, revision)


def downgrade(engine: sa.Engine, revision: str = "base") -> None:
    """Migrate the database down to ``revision``."""
    _run(engine, command.downgrade, revision)


def ensure_schema(engine: sa.Engine) -> str:
    """Make sure the database is at head; migrate it when it is fresh.

    A database with no tables at all is migrated to head automatically (first use). A database
    that has tables but is behind, or was never migrated by concord, is left alone and
    `NotMigrated` says what to run. Safe when several processes meet a fresh database at once.
    """
    head = head_revision()
    with engine.connect() as conn:
        if current_revision(conn) == head:
            return head  # the usual case, without waiting for anyone's lock
    with _migration_lock(engine) as conn:
        # Read again under the lock: a concurrent migration may have finished meanwhile, or be
        # half done (Alembic commits each migration alone), which without the lock looked like
        # tables that concord did not create.
        current = current_revision(conn)
        fresh = current is None and not sa.inspect(conn).get_table_names()
        conn.commit()
        if current == head:
            return head
        if not fresh:
            raise _behind(current, head)
        _migrate(conn, command.upgrade, head)
    return head


def _behind(current: str | None, head: str) -> NotMigrated:
    if current is None:
        return NotMigrated(
            "the database has tables but no concord schema: run `concord db upgrade` "
            "or point --database-url at an empty database"
        )
    return NotMigrated(
        f"the database schema is at revision {current}, the code needs {head}: run `concord db upgrade`"
    )


def _run(engine: sa.Engine, fn, revision: str) -> None:
    with _migration_lock(engine) as conn:
        _migrate(conn, fn, revision)


@contextmanager
def _migration_lock(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A connection holding the advisory lock that serialises schema changes between processes."""
    with engine.connect() as conn:
        conn.execute(sa.select(sa.func.pg_advisory_lock(MIGRATION_LOCK_KEY)))
        conn.commit()
        try:
            yield conn
        finally:
            conn.rollback()
            conn.execute(sa.select(sa.func.pg_advisory_unlock(MIGRATION_LOCK_KEY)))
            conn.commit()


def _migrate(conn: sa.Connection, fn, revision: str) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = conn
    fn(cfg, revision)
    conn.commit()
