"""Alembic environment for concord.

Three ways in, in order of precedence:
- from code (`concord.db.migrate`), which passes an open connection in ``config.attributes``;
- ``alembic -x url=postgresql://... upgrade head``;
- ``alembic upgrade head`` with CONCORD_DATABASE_URL set, or else concord's embedded server.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import pool

from concord.models import Base

target_metadata = Base.metadata
config = context.config

if config.config_file_name is not None and "connection" not in config.attributes:
    from logging.config import fileConfig

    # Keep the application's loggers alive when migrations run in-process.
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def _configure(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        compare_server_default=True,
        transaction_per_migration=True,
    )


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return

    from concord.db.engine import create_engine
    from concord.db.urls import resolve_url

    url = context.get_x_argument(as_dictionary=True).get("url")
    engine = create_engine(resolve_url(url), poolclass=pool.NullPool)
    with engine.connect() as conn:
        _configure(conn)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("concord's migrations run online only: give them a database")
run_migrations_online()
