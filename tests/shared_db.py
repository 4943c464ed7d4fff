"""One cloned database per test module, emptied before each test: a clean database for a test at
the cost of a TRUNCATE instead of a CREATE DATABASE (about a second each on a busy machine).

Import both fixtures into a test module to use them there:

    # ruff: noqa: F811
    from shared_db import database_url, module_database_url  # noqa: F401

`database_url` then overrides conftest's per-test clone in that module. Every table is emptied
and every identity restarted, so ids start at 1 as in a fresh clone. A test that changes the schema
itself (migrations, reset) still works here as long as it leaves concord's schema at head.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from conftest import create_database, drop_database, libpq
from sqlalchemy import URL

TABLES = ("activity", "tasks", "task_lists", "boards", "users")


@pytest.fixture(scope="module")
def module_database_url(server_url: URL, template_database: str) -> Iterator[URL]:
    name = f"concord_m_{uuid.uuid4().hex[:10]}"
    yield create_database(server_url, name, template=template_database)
    drop_database(server_url, name)


def empty(url: URL) -> None:
    """Delete every row of concord's tables and restart their identities."""
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        conn.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")


@pytest.fixture
def database_url(module_database_url: URL) -> URL:
    empty(module_database_url)
    return module_database_url
