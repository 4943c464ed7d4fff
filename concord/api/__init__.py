"""The HTTP face of concord: a thin FastAPI shim over the same library.

Routes parse, call one use case and return its result; no SQL and no commit happens in a route.
`create_app()` builds the app; `concord serve` runs it with uvicorn.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from concord.api import boards, docs, health, limits, problems, tasks
from concord.client import Concord, connect


def create_app(
    database_url: str | None = None, *, db: Concord | None = None, max_body_bytes: int | None = None
) -> FastAPI:
    """The API on ``database_url`` (default: CONCORD_DATABASE_URL, else the embedded server).

    Pass ``db`` to serve an existing `Concord` handle instead (the caller closes it). Request
    bodies over ``max_body_bytes`` (default: CONCORD_MAX_BODY_BYTES, else 1 MiB) get a 413.
    """
    body_limit = limits.max_body_bytes(max_body_bytes)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if db is not None:
            app.state.db = db
            yield
            return
        # Sync routes run in a thread pool of 40: size the pool so that requests queued behind a
        # row lock hold a connection each without exhausting it.
        app.state.db = connect(database_url, pool_size=10, max_overflow=40)
        try:
            yield
        finally:
            app.state.db.close()

    app = FastAPI(
        title="concord",
        summary="A task board whose writes are made safe with PostgreSQL locking strategies.",
        lifespan=lifespan,
        responses=problems.PROBLEM_RESPONSES,
        docs_url=None,  # served by docs.install from local assets, not from a CDN
        redoc_url=None,
    )
    if db is not None:
        app.state.db = db  # also for ASGI clients that do not run the lifespan
    problems.install(app)
    app.add_middleware(limits.BodySizeLimit, limit=body_limit)
    docs.install(app)
    app.include_router(health.router)
    app.include_router(boards.router)
    app.include_router(tasks.router)
    return app
