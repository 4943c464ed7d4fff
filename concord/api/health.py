"""``GET /health``: the API's versions and how many requests it can serve at once.

`concord race --via` reads the capacity to refuse more workers than the API can serve at once:
beyond it requests queue inside the server, and the race measures that queue, not PostgreSQL.
"""

from __future__ import annotations

import anyio.to_thread
import sqlalchemy as sa
from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from concord import __version__
from concord.api.deps import Db

router = APIRouter(tags=["health"])


class CapacityOut(BaseModel):
    pool_size: int = Field(description="Connections the API's pool keeps open.")
    max_overflow: int | None = Field(description="Connections it opens beyond those under load (null: any).")
    threads: int = Field(description="Requests to sync routes run in at most this many threads.")
    concurrent_requests: int = Field(
        description="Requests served at once: the fewer of threads and connections."
    )


class HealthOut(BaseModel):
    status: str
    concord_version: str
    server_version: str
    capacity: CapacityOut


@router.get("/health", response_model=HealthOut)
async def health(db: Db):
    """The API's version, its database server's version, and how many requests it serves at once."""
    server_version = await run_in_threadpool(db.server_version)
    # Every sync route holds one of these threads for its whole request (a row-lock wait included).
    threads = anyio.to_thread.current_default_thread_limiter().total_tokens
    return {
        "status": "ok",
        "concord_version": __version__,
        "server_version": server_version,
        "capacity": capacity(db.engine.pool, int(threads)),
    }


def capacity(pool: sa.Pool, threads: int) -> dict[str, int | None]:
    """What ``pool`` and ``threads`` let the API serve at once."""
    if isinstance(pool, sa.QueuePool):
        size = pool.size()
        # QueuePool has no public accessor for its overflow limit; -1 means no limit.
        overflow = pool._max_overflow
        connections = None if overflow < 0 else size + overflow
    else:  # NullPool and the like open a connection per checkout, without limit
        size, overflow, connections = 0, None, None
    at_once = threads if connections is None else min(threads, connections)
    return {"pool_size": size, "max_overflow": overflow, "threads": threads, "concurrent_requests": at_once}
