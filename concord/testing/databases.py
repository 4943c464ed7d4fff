"""A fresh, empty database per test, created on a server and dropped afterwards.

The server is the one ``CONCORD_TEST_DATABASE_URL`` names, else ``CONCORD_DATABASE_URL``, else
concord's embedded server (started on first use). The database is created empty (concord adds
none of its tables: a user scenario's ``setup`` creates what it needs) and dropped ``WITH
(FORCE)``, so a session left behind cannot keep it alive. The role needs ``CREATEDB``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql

from concord.db.urls import libpq_dsn, resolve_url

TEST_URL_ENV = "CONCORD_TEST_DATABASE_URL"


@contextmanager
def fresh_database(server_url: str | None = None) -> Iterator[str]:
    """Create an empty database on ``server_url``'s server (default: see the module docstring),
    yield its URL (``postgresql://...``), drop it afterwards."""
    server = resolve_url(server_url or os.environ.get(TEST_URL_ENV) or None)
    name = f"concord_test_{uuid.uuid4().hex[:12]}"
    _run(libpq_dsn(server), sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield libpq_dsn(server.set(database=name))
    finally:
        _run(
            libpq_dsn(server), sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def _run(dsn: str, statement: sql.Composed) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(statement)
