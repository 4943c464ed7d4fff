"""The shim under a real uvicorn server: concurrent requests race for the same task."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx2
import pytest

WORKERS = 50


def _setup_task(base: str) -> tuple[int, list[str]]:
    with httpx2.Client(base_url=base) as client:
        board = client.post("/boards", json={"name": "Race"}).json()
        todo = client.post(f"/boards/{board['id']}/lists", json={"name": "Todo"}).json()
        task = client.post(f"/lists/{todo['id']}/tasks", json={"title": "Contended"}).json()
        names = [f"worker-{n}" for n in range(WORKERS)]
        for name in names:
            client.post("/users", json={"name": name}).raise_for_status()
    return task["id"], names


async def _assign_all(base: str, task_id: int, names: list[str], strategy: str) -> list[httpx2.Response]:
    limits = httpx2.Limits(max_connections=WORKERS)
    async with httpx2.AsyncClient(base_url=base, limits=limits, timeout=60) as client:
        return await asyncio.gather(
            *(
                client.post(f"/tasks/{task_id}/assign", params={"strategy": strategy}, json={"user": name})
                for name in names
            )
        )


# What a loser is told, per strategy: the row lock makes it wait and then see the winner; NOWAIT
# and SKIP LOCKED answer a held lock at once; the compare-and-set finds the version moved on.
LOSER_PROBLEMS = {
    "pessimistic": {"/problems/already-assigned"},
    "advisory": {"/problems/already-assigned"},
    "nowait": {"/problems/already-assigned", "/problems/lock-not-available"},
    "skip_locked": {"/problems/already-assigned", "/problems/lock-not-available"},
    "optimistic": {"/problems/already-assigned", "/problems/stale-version"},
}


@pytest.mark.parametrize("strategy", list(LOSER_PROBLEMS))
def test_fifty_simultaneous_assigns_give_exactly_one_winner_and_forty_nine_409s(live_url, strategy):
    task_id, names = _setup_task(live_url)
    responses = asyncio.run(_assign_all(live_url, task_id, names, strategy))
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {200: 1, 409: WORKERS - 1}
    [winner] = [r.json() for r in responses if r.status_code == 200]
    losers = [r for r in responses if r.status_code == 409]
    assert {r.json()["type"] for r in losers} <= LOSER_PROBLEMS[strategy]
    for loser in losers:
        if loser.json()["type"] == "/problems/lock-not-available":
            assert loser.headers["retry-after"] == "1"
    with httpx2.Client(base_url=live_url) as client:
        assert client.get(f"/tasks/{task_id}").json()["assignee_id"] == winner["assignee_id"]


def test_a_stale_patch_against_the_live_server_gets_409(live_url):
    task_id, _ = _setup_task(live_url)
    with httpx2.Client(base_url=live_url) as client:
        assert client.patch(f"/tasks/{task_id}", json={"version": 1, "points": 1}).status_code == 200
        stale = client.patch(f"/tasks/{task_id}", json={"version": 1, "points": 2})
    assert stale.status_code == 409
    assert stale.json()["current_version"] == 2


def test_a_chunked_body_over_the_limit_gets_413_from_the_live_server(live_url):
    """Over real HTTP/1.1 chunked encoding (no Content-Length), counted as the chunks arrive."""

    def chunks():
        for _ in range(17):  # 17 x 64 KiB: one chunk past the 1 MiB default
            yield b"n" * 64 * 1024

    with httpx2.Client(base_url=live_url) as client:
        response = client.post("/boards", content=chunks(), headers={"content-type": "application/json"})
        assert response.status_code == 413
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["type"] == "/problems/content-too-large"
        assert client.get("/boards").json() == []
