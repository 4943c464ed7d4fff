"""Administration of the database behind `concord db`: status, upgrade, reset, stop."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from concord import config
from concord.db import migrate
from concord.db.embedded import PG_MAJOR, EmbeddedServer
from concord.db.engine import create_engine
from concord.db.urls import mask_url, resolve_url
from concord.errors import DatabaseUnavailable, InvalidInput, NotMigrated, translate
from concord.models import Base


def status(database_url: str | None = None) -> dict[str, Any]:
    """What is connected and in which state, without starting a stopped embedded server."""
    explicit = database_url or config.database_url_from_env()
    report: dict[str, Any] = {"server": "external" if explicit else f"embedded PostgreSQL {PG_MAJOR}"}
    if not explicit:
        embedded = EmbeddedServer.default().status()
        report["data_directory"] = str(embedded.data_dir)
        report["running"] = embedded.running
        report["pid"] = embedded.pid
        if not embedded.running:
            report.update(url=None, server_version=None, revision=None, head=migrate.head_revision())
            return report
    url = resolve_url(explicit)
    report["url"] = mask_url(url)
    engine = create_engine(url, poolclass=sa.NullPool)
    try:
        with engine.connect() as conn:
            report["server_version"] = conn.scalar(sa.text("SHOW server_version"))
            report["max_connections"] = int(conn.scalar(sa.text("SHOW max_connections")))
            report["revision"] = migrate.current_revision(conn)
    except DBAPIError as exc:
        raise _typed(exc, url) from exc
    finally:
        engine.dispose()
    report["head"] = migrate.head_revision()
    report["up_to_date"] = report["revision"] == report["head"]
    return report


def upgrade(database_url: str | None = None, revision: str = "head") -> tuple[str | None, str | None]:
    """Migrate up to ``revision``; returns the revisions before and after."""
    return _with_engine(database_url, lambda engine: _upgrade(engine, revision))


def reset(database_url: str | None = None) -> str:
    """Drop concord's tables (and Alembic's stamp) and migrate again from an empty schema."""

    def run(engine: sa.Engine) -> str:
        with engine.begin() as conn:
            Base.metadata.drop_all(conn)
            conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
        migrate.upgrade(engine)
        return migrate.head_revision()

    return _with_engine(database_url, run)


def stop_embedded(database_url: str | None = None) -> bool:
    """Stop the embedded server; False when it was not running.

    With a database URL (given, or in CONCORD_DATABASE_URL) the database is an external server
    that concord did not start, and is not concord's to stop: `InvalidInput` says so.
    """
    explicit = database_url or config.database_url_from_env()
    if explicit:
        raise InvalidInput(
            f"the database at {mask_url(explicit)} is an external server, not concord's embedded one: "
            "stop it with its own tools (pg_ctl, systemctl), or unset --database-url / CONCORD_DATABASE_URL "
            "to stop the embedded server"
        )
    return EmbeddedServer.default().stop()


def explain_not_migrated(database_url: str | sa.URL) -> NotMigrated | None:
    """A precise `NotMigrated` for a database stamped with a revision this code does not know.

    `concord db upgrade` cannot help there (Alembic cannot find the revision), so the message
    must not suggest it. None when the revision is known or absent, or the database is unreachable.
    """
    engine = create_engine(database_url, poolclass=sa.NullPool)
    try:
        with engine.connect() as conn:
            current = migrate.current_revision(conn)
    except DBAPIError:
        return None
    finally:
        engine.dispose()
    return _unknown_revision(current)


def _known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(migrate.alembic_config())
    return {rev.revision for rev in script.walk_revisions()}


def _unknown_revision(current: str | None) -> NotMigrated | None:
    if current is None or current in _known_revisions():
        return None
    return NotMigrated(
        f"the database is stamped with revision {current!r}, which this concord does not know "
        f"(its newest is {migrate.head_revision()}; was it migrated by a newer concord?): upgrade concord, "
        "or run `concord db reset --yes` to start it over (this deletes its data)"
    )


def _upgrade(engine: sa.Engine, revision: str) -> tuple[str | None, str | None]:
    with engine.connect() as conn:
        before = migrate.current_revision(conn)
    unknown = _unknown_revision(before)
    if unknown is not None:
        raise unknown
    if revision != "head" and revision not in _known_revisions():
        raise InvalidInput(
            f"unknown revision {revision!r}: choose head or one of {', '.join(sorted(_known_revisions()))}"
        )
    migrate.upgrade(engine, revision)
    with engine.connect() as conn:
        return before, migrate.current_revision(conn)


def _with_engine(database_url: str | None, fn):
    url = resolve_url(database_url)
    engine = create_engine(url, poolclass=sa.NullPool)
    try:
        return fn(engine)
    except DBAPIError as exc:
        raise _typed(exc, url) from exc
    finally:
        engine.dispose()


def _typed(exc: DBAPIError, url: sa.URL) -> BaseException:
    """A driver error as a concord error; a failed connection names the (masked) URL."""
    error = translate(exc)
    return DatabaseUnavailable.at(mask_url(url), error) if isinstance(error, DatabaseUnavailable) else error


__all__ = ["explain_not_migrated", "reset", "status", "stop_embedded", "upgrade"]
