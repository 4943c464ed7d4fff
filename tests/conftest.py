"""Test databases on a real PostgreSQL.

The server is concord's embedded one (in a test home of its own, so a developer's data is never
touched), or the server named by CONCORD_TEST_DATABASE_URL. Once per run a template database is
migrated to head; every test that asks for `database_url` gets its own clone of it, dropped after.
"""

from __future__ import annotations

import itertools
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import URL

TEST_URL_ENV = "CONCORD_TEST_DATABASE_URL"
_RUN = uuid.uuid4().hex[:8]
_counter = itertools.count()


def pytest_configure(config: pytest.Config) -> None:
    # The embedded server used by tests lives apart from the user's own concord home.
    if not os.environ.get(TEST_URL_ENV) and not os.environ.get("CONCORD_HOME"):
        import platformdirs

        os.environ["CONCORD_HOME"] = str(platformdirs.user_cache_path("concord") / "test-home")
    os.environ.pop("CONCORD_DATABASE_URL", None)


@pytest.fixture(scope="session")
def server_url() -> URL:
    """URL of the server's maintenance database (``postgres``), as psycopg 3 URL."""
    from concord.db.urls import normalize_url, resolve_url

    explicit = os.environ.get(TEST_URL_ENV)
    url = normalize_url(explicit) if explicit else resolve_url(None)
    return url.set(database="postgres")


def libpq(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def create_database(server_url: URL, name: str, *, template: str | None = None) -> URL:
    with psycopg.connect(libpq(server_url), autocommit=True) as conn:
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            statement = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(template)
            )
        conn.execute(statement)
    return server_url.set(database=name)


def drop_database(server_url: URL, name: str) -> None:
    with psycopg.connect(libpq(server_url), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def template_database(server_url: URL) -> Iterator[str]:
    """A database migrated to head once per run, cloned for each test."""
    import sqlalchemy as sa

    from concord.db import migrate
    from concord.db.engine import create_engine

    name = f"concord_tpl_{_RUN}"
    url = create_database(server_url, name)
    engine = create_engine(url, poolclass=sa.NullPool)
    migrate.upgrade(engine)
    engine.dispose()
    yield name
    drop_database(server_url, name)


@pytest.fixture
def empty_database_url(server_url: URL) -> Iterator[URL]:
    """A database with nothing in it."""
    name = f"concord_empty_{_RUN}_{next(_counter)}"
    yield create_database(server_url, name)
    drop_database(server_url, name)


@pytest.fixture
def database_url(server_url: URL, template_database: str) -> Iterator[URL]:
    """A database of this test's own, migrated to head."""
    name = f"concord_t_{_RUN}_{next(_counter)}"
    yield create_database(server_url, name, template=template_database)
    drop_database(server_url, name)


@pytest.fixture
def db(database_url: URL):
    """A `concord.Concord` handle on this test's database."""
    import concord

    handle = concord.connect(database_url)
    yield handle
    handle.close()


@pytest.fixture
def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


@pytest.fixture
def live_url(db):
    """A real uvicorn serving the API on this test's database, on a free loopback port."""
    import socket
    import threading

    import uvicorn

    from concord.api import create_app

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_app(db=db), log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:  # uvicorn offers no event for this; poll its flag
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()
