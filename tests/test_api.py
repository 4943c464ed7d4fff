"""The HTTP shim, through Starlette's TestClient on a database of the test's own."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from concord.api import create_app

PROBLEM = "application/problem+json"


@pytest.fixture
def client(db):
    with TestClient(create_app(db=db)) as test_client:
        yield test_client


@pytest.fixture
def board(client):
    return client.post("/boards", json={"name": "Roadmap"}).json()


@pytest.fixture
def todo(client, board):
    return client.post(f"/boards/{board['id']}/lists", json={"name": "Todo", "wip_limit": 2}).json()


@pytest.fixture
def task(client, todo):
    return client.post(f"/lists/{todo['id']}/tasks", json={"title": "Write the spec", "points": 3}).json()


def assert_problem(response, status: int, slug: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["type"] == f"/problems/{slug}"
    assert body["status"] == status
    assert "Traceback" not in response.text
    return body


def test_board_routes_create_list_show_rename_and_delete(client):
    created = client.post("/boards", json={"name": "Roadmap"})
    assert created.status_code == 201
    board_id = created.json()["id"]
    assert [b["name"] for b in client.get("/boards").json()] == ["Roadmap"]
    assert client.get(f"/boards/{board_id}").json()["lists"] == []
    assert client.patch(f"/boards/{board_id}", json={"name": "Plan"}).json()["name"] == "Plan"
    assert client.delete(f"/boards/{board_id}").status_code == 204
    assert_problem(client.get(f"/boards/{board_id}"), 404, "not-found")


def test_lists_and_tasks_appear_in_the_board_tree(client, board, todo, task):
    assert [entry["id"] for entry in client.get(f"/boards/{board['id']}/lists").json()] == [todo["id"]]
    assert [t["title"] for t in client.get(f"/lists/{todo['id']}/tasks").json()] == ["Write the spec"]
    tree = client.get(f"/boards/{board['id']}").json()
    assert tree["lists"][0]["tasks"][0]["id"] == task["id"]
    shown = client.get(f"/tasks/{task['id']}")
    assert shown.headers["etag"] == '"1"'
    assert shown.json()["version"] == 1


def test_patch_with_the_current_version_in_the_body_bumps_the_version(client, task):
    response = client.patch(f"/tasks/{task['id']}", json={"version": 1, "title": "Ship the spec"})
    assert response.status_code == 200
    assert response.json()["version"] == 2
    assert response.headers["etag"] == '"2"'


def test_patch_with_a_stale_if_match_gets_409_with_the_current_version(client, task):
    client.patch(f"/tasks/{task['id']}", json={"version": 1, "points": 5})
    response = client.patch(f"/tasks/{task['id']}", json={"title": "late"}, headers={"If-Match": 'W/"1"'})
    body = assert_problem(response, 409, "stale-version")
    assert body["current_version"] == 2
    assert client.get(f"/tasks/{task['id']}").json()["title"] == "Write the spec"


def test_patch_without_any_version_is_refused_with_428(client, task):
    assert_problem(client.patch(f"/tasks/{task['id']}", json={"title": "x"}), 428, "precondition-required")


def test_assign_then_a_second_assign_to_someone_else_is_a_409(client, task):
    client.post("/users", json={"name": "alice"})
    client.post("/users", json={"name": "bob"})
    first = client.post(f"/tasks/{task['id']}/assign", json={"user": "alice"})
    assert first.status_code == 200
    assert_problem(client.post(f"/tasks/{task['id']}/assign", json={"user": "bob"}), 409, "already-assigned")
    assert_problem(client.post(f"/tasks/{task['id']}/assign", json={"user": "nobody"}), 404, "not-found")


def test_move_respects_the_wip_limit(client, board, todo, task):
    doing = client.post(f"/boards/{board['id']}/lists", json={"name": "Doing", "wip_limit": 1}).json()
    other = client.post(f"/lists/{todo['id']}/tasks", json={"title": "Second"}).json()
    moved = client.post(f"/tasks/{task['id']}/move", json={"list_id": doing["id"]})
    assert moved.status_code == 200
    assert moved.json()["list_id"] == doing["id"]
    assert_problem(
        client.post(f"/tasks/{other['id']}/move", json={"list_id": doing["id"]}), 409, "wip-limit-exceeded"
    )


def test_every_write_is_logged_in_the_activity_feed_after_the_response(client, board, todo, task):
    client.patch(f"/tasks/{task['id']}", json={"version": 1, "status": "doing"})
    actions = [entry["action"] for entry in client.get(f"/boards/{board['id']}/activity").json()]
    assert actions == ["task.updated", "task.created", "list.created", "board.created"]


def test_activity_of_a_task_deleted_before_the_log_is_written_keeps_its_text(db, client, board, todo):
    from concord.repositories import ActivityEntry
    from concord.services import activity

    written = db.transact(
        activity.record_entries,
        [
            ActivityEntry(board["id"], "task.created", task_id=10**9, detail={"title": "gone"}),
            ActivityEntry(10**9, "board.created"),
        ],
    )
    assert written == 1
    [latest, *_] = client.get(f"/boards/{board['id']}/activity").json()
    assert (latest["action"], latest["task_id"], latest["detail"]) == (
        "task.created",
        None,
        {"title": "gone"},
    )


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "slug"),
    [
        ("post", "/boards", {"name": ""}, 422, "invalid-input"),
        ("post", "/boards", {"name": "x" * 201}, 422, "invalid-input"),
        ("post", "/boards", {"name": "nul\x00byte"}, 422, "invalid-input"),
        ("post", "/boards", {}, 422, "invalid-input"),
        ("get", "/boards/999999", None, 404, "not-found"),
        ("get", "/tasks/999999", None, 404, "not-found"),
        ("get", "/lists/999999/tasks", None, 404, "not-found"),
        ("post", "/boards/999999/lists", {"name": "x"}, 404, "not-found"),
        ("get", "/boards/abc", None, 422, "invalid-input"),
        ("get", "/no/such/route", None, 404, "not-found"),
        ("put", "/boards", None, 405, "method-not-allowed"),
    ],
)
def test_bad_requests_get_problem_documents(client, method, path, body, status, slug):
    kwargs = {"json": body} if body is not None else {}
    assert_problem(getattr(client, method)(path, **kwargs), status, slug)


def test_malformed_json_is_a_400(client):
    response = client.post("/boards", content=b"{not json", headers={"content-type": "application/json"})
    assert_problem(response, 400, "malformed-request")


def test_negative_positions_and_limits_are_invalid_input(client, board, todo):
    assert_problem(
        client.post(f"/boards/{board['id']}/lists", json={"name": "x", "wip_limit": 0}), 422, "invalid-input"
    )
    assert_problem(
        client.post(f"/lists/{todo['id']}/tasks", json={"title": "x", "position": -1}), 422, "invalid-input"
    )
    assert_problem(client.get(f"/boards/{board['id']}/activity", params={"limit": 0}), 422, "invalid-input")


def test_an_unreachable_database_is_a_503(db):
    import concord

    gone = concord.connect("postgresql://postgres@127.0.0.1:1/nowhere", ensure_schema=False)
    with TestClient(create_app(db=gone)) as broken:
        assert_problem(broken.get("/boards"), 503, "database-unavailable")
    gone.close()


def test_the_openapi_document_is_served_with_docs(client):
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/boards", "/boards/{board_id}", "/tasks/{task_id}/assign", "/boards/{board_id}/activity"} <= set(
        paths
    )


def _hold_row_lock(db, task_id: int):
    """Another transaction that holds the task's row lock until closed."""
    import sqlalchemy as sa

    conn = db.engine.connect()
    conn.execute(sa.text("SELECT id FROM tasks WHERE id = :id FOR UPDATE"), {"id": task_id})
    return conn


@pytest.mark.parametrize("strategy", ["nowait", "skip_locked"])
def test_assign_with_a_no_wait_strategy_answers_a_held_lock_with_409_and_retry_after(
    db, client, task, strategy
):
    client.post("/users", json={"name": "alice"})
    holder = _hold_row_lock(db, task["id"])
    try:
        response = client.post(
            f"/tasks/{task['id']}/assign", params={"strategy": strategy}, json={"user": "alice"}
        )
    finally:
        holder.rollback()
        holder.close()
    assert_problem(response, 409, "lock-not-available")
    assert response.headers["retry-after"] == "1"
    assert client.get(f"/tasks/{task['id']}").json()["assignee_id"] is None


def test_assign_with_an_unknown_strategy_is_invalid_input(client, task):
    client.post("/users", json={"name": "alice"})
    response = client.post(
        f"/tasks/{task['id']}/assign", params={"strategy": "magic"}, json={"user": "alice"}
    )
    assert_problem(response, 422, "invalid-input")


def test_if_match_star_writes_whatever_the_version(client, task):
    client.patch(f"/tasks/{task['id']}", json={"version": 1, "points": 5})
    response = client.patch(f"/tasks/{task['id']}", json={"points": 6}, headers={"If-Match": "*"})
    assert response.status_code == 200
    assert (response.json()["points"], response.json()["version"]) == (6, 3)


def test_health_reports_the_server_version(client):
    body = client.get("/health").json()
    assert body["status"] == "ok"
    assert body["server_version"].split(".")[0].isdigit()


# (method, path template, field): every text field of every request body
TEXT_FIELDS = [
    ("post", "/boards", "name"),
    ("patch", "/boards/{board}", "name"),
    ("post", "/boards/{board}/lists", "name"),
    ("post", "/lists/{list}/tasks", "title"),
    ("post", "/lists/{list}/tasks", "description"),
    ("post", "/lists/{list}/tasks", "status"),
    ("post", "/lists/{list}/tasks", "assignee"),
    ("patch", "/tasks/{task}", "title"),
    ("patch", "/tasks/{task}", "description"),
    ("patch", "/tasks/{task}", "status"),
    ("post", "/tasks/{task}/assign", "user"),
    ("post", "/users", "name"),
]
REQUIRED = {"/lists/{list}/tasks": {"title": "ok"}, "/tasks/{task}": {"version": 1}}


@pytest.mark.parametrize(("method", "template", "field"), TEXT_FIELDS)
def test_a_lone_surrogate_in_any_text_field_is_invalid_input_not_a_500(
    db, client, board, todo, task, method, template, field
):
    path = template.format(board=board["id"], list=todo["id"], task=task["id"])
    # Written by hand: a JSON encoder would refuse the lone surrogate before it left the client.
    body = json.dumps({**REQUIRED.get(template, {}), field: "x"}).replace('"x"', '"\\ud800"')
    response = client.request(
        method, path, content=body.encode(), headers={"content-type": "application/json"}
    )
    problem = assert_problem(response, 422, "invalid-input")
    assert {tuple(e["loc"][:2]) for e in problem["errors"]} == {("body", field)}
    assert "lone surrogate" in problem["detail"]
    assert client.get(f"/boards/{board['id']}/activity").json()[0]["action"] == "task.created"


# A board deleted while its activity waits to be written


@contextmanager
def _holding_board(db, board_id: int) -> Iterator[tuple[sa.Connection, int]]:
    """Another transaction that holds the board's row lock (and its backend's pid) until it ends."""
    conn = db.engine.connect()
    try:
        conn.execute(sa.text("SELECT id FROM boards WHERE id = :id FOR UPDATE"), {"id": board_id})
        yield conn, conn.scalar(sa.text("SELECT pg_backend_pid()"))
    finally:
        conn.rollback()
        conn.close()


def _wait_until_blocked_by(db, pid: int) -> None:
    """Return once some backend waits on a lock held by ``pid`` (the server's own wait state)."""
    query = sa.text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE wait_event_type = 'Lock' AND :pid = ANY(pg_blocking_pids(pid))"
    )
    deadline = time.monotonic() + 30
    with db.engine.connect() as watcher:
        while not watcher.scalar(query, {"pid": pid}):
            assert time.monotonic() < deadline, "nothing ever waited on the board's lock"
            time.sleep(0.01)
            watcher.rollback()  # a fresh snapshot of pg_stat_activity each time


def test_activity_for_a_board_deleted_while_it_waits_is_dropped_not_a_foreign_key_error(db, board):
    from concord.repositories import ActivityEntry
    from concord.services import activity

    with _holding_board(db, board["id"]) as (holder, pid), ThreadPoolExecutor(1) as pool:
        writing = pool.submit(
            db.transact, activity.record_entries, [ActivityEntry(board["id"], "task.created")]
        )
        _wait_until_blocked_by(db, pid)
        holder.execute(sa.text("DELETE FROM boards WHERE id = :id"), {"id": board["id"]})
        holder.commit()
        assert writing.result(timeout=30) == 0


def test_a_task_created_while_its_board_is_deleted_logs_no_error(db, client, board, todo, caplog):
    """The write commits, the board's deletion commits while the activity waits to be written
    after the response: the entry is dropped quietly, the response stays a 201."""
    with _holding_board(db, board["id"]) as (holder, pid), ThreadPoolExecutor(1) as pool:
        creating = pool.submit(client.post, f"/lists/{todo['id']}/tasks", json={"title": "Late"})
        _wait_until_blocked_by(db, pid)
        holder.execute(sa.text("DELETE FROM boards WHERE id = :id"), {"id": board["id"]})
        holder.commit()
        response = creating.result(timeout=30)
    assert response.status_code == 201
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    with db.engine.connect() as conn:
        assert conn.scalar(sa.text("SELECT count(*) FROM activity")) == 0


# The request-size limit


def _board_body(size: int) -> bytes:
    """A JSON board body of exactly ``size`` bytes."""
    frame = b'{"name": ""}'
    return frame[:-2] + b"n" * (size - len(frame)) + frame[-2:]


def _chunks(body: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    """The body as a stream: httpx then sends it chunked, without a Content-Length."""
    for start in range(0, len(body), size):
        yield body[start : start + size]


def _board_count(db) -> int:
    with db.engine.connect() as conn:
        return conn.scalar(sa.text("SELECT count(*) FROM boards"))


@pytest.fixture
def small_limit_client(db):
    with TestClient(create_app(db=db, max_body_bytes=100)) as test_client:
        yield test_client


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_body_over_the_limit_is_refused_with_413_and_writes_nothing(db, small_limit_client, chunked):
    body = _board_body(101)
    content = _chunks(body, 10) if chunked else body
    response = small_limit_client.post(
        "/boards", content=content, headers={"content-type": "application/json"}
    )
    problem = assert_problem(response, 413, "content-too-large")
    assert problem["detail"] == "the request body is larger than the limit of 100 bytes"
    assert _board_count(db) == 0


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_body_exactly_at_the_limit_is_accepted(small_limit_client, chunked):
    body = _board_body(100)
    content = _chunks(body, 10) if chunked else body
    response = small_limit_client.post(
        "/boards", content=content, headers={"content-type": "application/json"}
    )
    assert response.status_code == 201, response.text


def test_a_declared_oversized_body_is_refused_before_a_bodyless_route_runs(db, small_limit_client, board):
    """DELETE never reads its body; the limit refuses it before the board is touched."""
    response = small_limit_client.request("DELETE", f"/boards/{board['id']}", content=b"x" * 101)
    assert_problem(response, 413, "content-too-large")
    assert _board_count(db) == 1


def test_the_limit_comes_from_the_environment_when_not_given(db, monkeypatch):
    monkeypatch.setenv("CONCORD_MAX_BODY_BYTES", "50")
    with TestClient(create_app(db=db)) as limited:
        json_body = {"content-type": "application/json"}
        assert_problem(
            limited.post("/boards", content=_board_body(51), headers=json_body), 413, "content-too-large"
        )
        assert limited.post("/boards", content=_board_body(50), headers=json_body).status_code == 201


@pytest.mark.parametrize("value", ["lots", "0", "-1"])
def test_a_bad_limit_in_the_environment_is_invalid_input(db, monkeypatch, value):
    import concord

    monkeypatch.setenv("CONCORD_MAX_BODY_BYTES", value)
    with pytest.raises(concord.InvalidInput, match="CONCORD_MAX_BODY_BYTES"):
        create_app(db=db)


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_the_default_limit_is_one_mebibyte(db, client, chunked):
    mib = 1024 * 1024
    for size, status in [(mib, 422), (mib + 1, 413)]:  # at the limit the name is merely too long
        body = _board_body(size)
        content = _chunks(body) if chunked else body
        response = client.post("/boards", content=content, headers={"content-type": "application/json"})
        assert response.status_code == status, response.text
    assert _board_count(db) == 0
