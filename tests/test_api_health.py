"""``GET /health`` says how many requests the API serves at once, from its engine's pool."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi.testclient import TestClient

import concord
from concord.api import create_app


def health_of(db) -> dict:
    with TestClient(create_app(db=db)) as client:
        return client.get("/health").json()


def test_health_reports_the_pool_and_threads_and_the_fewer_of_them_as_requests_at_once(database_url):
    with concord.connect(database_url, pool_size=3, max_overflow=4) as db:
        body = health_of(db)
    assert body["status"] == "ok"
    assert body["capacity"] == {
        "pool_size": 3,
        "max_overflow": 4,
        "threads": 40,  # anyio's default thread limiter, which runs FastAPI's sync routes
        "concurrent_requests": 7,
    }


def test_health_of_an_api_with_more_connections_than_threads_is_bounded_by_the_threads(database_url):
    with concord.connect(database_url, pool_size=10, max_overflow=40) as db:
        assert health_of(db)["capacity"]["concurrent_requests"] == 40


def test_health_of_an_api_without_a_pool_limit_is_bounded_by_the_threads(database_url):
    with concord.connect(database_url, poolclass=sa.NullPool) as db:
        capacity = health_of(db)["capacity"]
    assert capacity == {"pool_size": 0, "max_overflow": None, "threads": 40, "concurrent_requests": 40}
