"""The shim under a real uvicorn server: concurrent requests race for the same task."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections import Counter

import httpx2
import pytest
import uvicorn

from concord.api import create_app

WORKERS = 50


@pytest.fixture
def live_url(db):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_app(db=db), log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    started = threading.Event()
    while not started.wait(0.01):
        if server.started:
            started.set()
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


def _setup_task(base: str) -> tuple[int, list[str]]:
    with httpx2.Client(base_url=base) as client:
        board = client.post("/boards", json={"name": "Race"}).json()
        todo = client.post(f"/boards/{board['id']}/lists", json={"name": "Todo"}).json()
        task = client.post(f"/lists/{todo['id']}/tasks", json={"title": "Contended"}).json()
        names = [f"worker-{n}" for n in range(WORKERS)]
        for name in names:
            client.post("/users", json={"name": name}).raise_for_status()
    return task["id"], names


async def _assign_all(base: str, task_id: int, names: list[str]) -> list[httpx2.Response]:
    limits = httpx2.Limits(max_connections=WORKERS)
    async with httpx2.AsyncClient(base_url=base, limits=limits, timeout=60) as client:
        return await asyncio.gather(
            *(client.post(f"/tasks/{task_id}/assign", json={"user": name}) for name in names)
        )


def test_fifty_simultaneous_assigns_give_exactly_one_winner_and_forty_nine_409s(live_url):
    task_id, names = _setup_task(live_url)
    responses = asyncio.run(_assign_all(live_url, task_id, names))
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {200: 1, 409: WORKERS - 1}
    [winner] = [r.json() for r in responses if r.status_code == 200]
    losers = [r.json() for r in responses if r.status_code == 409]
    assert {p["type"] for p in losers} == {"/problems/already-assigned"}
    with httpx2.Client(base_url=live_url) as client:
        assert client.get(f"/tasks/{task_id}").json()["assignee_id"] == winner["assignee_id"]


def test_a_stale_patch_against_the_live_server_gets_409(live_url):
    task_id, _ = _setup_task(live_url)
    with httpx2.Client(base_url=live_url) as client:
        assert client.patch(f"/tasks/{task_id}", json={"version": 1, "points": 1}).status_code == 200
        stale = client.patch(f"/tasks/{task_id}", json={"version": 1, "points": 2})
    assert stale.status_code == 409
    assert stale.json()["current_version"] == 2
