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
from concord.errors import translate
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
        raise translate(exc) from exc
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


def stop_embedded() -> bool:
    """Stop the embedded server; False when it was not running."""
    return EmbeddedServer.default().stop()


def _upgrade(engine: sa.Engine, revision: str) -> tuple[str | None, str | None]:
    with engine.connect() as conn:
        before = migrate.current_revision(conn)
    migrate.upgrade(engine, revision)
    with engine.connect() as conn:
        return before, migrate.current_revision(conn)


def _with_engine(database_url: str | None, fn):
    engine = create_engine(resolve_url(database_url), poolclass=sa.NullPool)
    try:
        return fn(engine)
    except DBAPIError as exc:
        raise translate(exc) from exc
    finally:
        engine.dispose()


__all__ = ["reset", "status", "stop_embedded", "upgrade"]
