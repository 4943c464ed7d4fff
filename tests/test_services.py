"""The use cases on a real database: what each writes, versions, positions, activity, refusals."""

from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa
from shared_db import database_url, module_database_url  # noqa: F401

import concord
from concord.models import Activity, Task
from concord.services import activity, boards, lists, tasks, users


def actions(db, board_id: int) -> list[tuple[str, int | None]]:
    """The board's activity, oldest first, as (action, task_id)."""
    with db.engine.connect() as conn:
        rows = conn.execute(
            sa.select(Activity.action, Activity.task_id)
            .where(Activity.board_id == board_id)
            .order_by(Activity.id)
        )
        return [tuple(row) for row in rows]


def order(db, list_id: int) -> list[str]:
    return [t.title for t in db.transact(tasks.tasks_in_list, list_id)]


@pytest.fixture
def board(db):
    return db.transact(boards.create_board, "Roadmap")


@pytest.fixture
def todo(db, board):
    return db.transact(lists.create_list, board.id, "Todo")


@pytest.fixture
def doing(db, board):
    return db.transact(lists.create_list, board.id, "Doing", wip_limit=2)


def test_every_write_records_exactly_one_activity_row(db, board, todo, doing):
    alice = db.transact(users.create_user, "alice")
    task = db.transact(tasks.create_task, todo.id, "T")
    db.transact(tasks.update_task, task.id, title="T2")
    db.transact(tasks.move_task, task.id, doing.id)
    db.transact(tasks.assign_task, task.id, alice.id)
    db.transact(lists.rename_list, todo.id, "Backlog")
    db.transact(boards.rename_board, board.id, "Plan")
    db.transact(tasks.delete_task, task.id)
    assert actions(db, board.id) == [
        ("board.created", None),
        ("list.created", None),
        ("list.created", None),
        ("task.created", None),  # the task was deleted: its history stays, unlinked
        ("task.updated", None),
        ("task.moved", None),
        ("task.assigned", None),
        ("list.renamed", None),
        ("board.renamed", None),
        ("task.deleted", None),
    ]


def test_activity_links_to_a_task_while_it_exists(db, board, todo):
    task = db.transact(tasks.create_task, todo.id, "T")
    db.transact(tasks.update_task, task.id, points=3)
    assert actions(db, board.id)[-2:] == [("task.created", task.id), ("task.updated", task.id)]
    with db.unit_of_work() as uow:
        [latest, *_] = uow.activity.feed(board.id)
        assert (latest.action, latest.detail) == ("task.updated", {"points": 3, "version": 2})


def test_a_deferred_unit_of_work_reads_the_feed_and_writes_its_activity_only_when_asked(db, board, todo):
    before = actions(db, board.id)
    with db.unit_of_work(defer_activity=True) as uow:
        task = tasks.create_task(uow, todo.id, "T")
        feed = activity.board_activity(uow, board.id)
        uow.commit()
        entries = uow.deferred_entries()
    assert [a.action for a in feed] == [action for action, _ in reversed(before)]
    assert [(e.action, e.task_id) for e in entries] == [("task.created", task.id)]
    assert actions(db, board.id) == before
    assert db.transact(activity.record_entries, entries) == 1
    assert actions(db, board.id) == [*before, ("task.created", task.id)]


def test_update_move_and_assign_each_bump_the_version_by_one(db, board, todo, doing):
    alice = db.transact(users.create_user, "alice")
    task = db.transact(tasks.create_task, todo.id, "T")
    versions = [task.version]
    versions.append(db.transact(tasks.update_task, task.id, status="doing").version)
    versions.append(db.transact(tasks.move_task, task.id, doing.id).version)
    versions.append(db.transact(tasks.assign_task, task.id, "alice").version)
    versions.append(db.transact(tasks.update_task, task.id, description="x", expected_version=4).version)
    assert versions == [1, 2, 3, 4, 5]
    assert db.transact(tasks.get_task, task.id).assignee_id == alice.id


def test_update_refuses_a_stale_version_and_writes_nothing(db, board, todo):
    task = db.transact(tasks.create_task, todo.id, "T")
    db.transact(tasks.update_task, task.id, title="Theirs")
    with pytest.raises(concord.StaleVersion) as caught:
        db.transact(tasks.update_task, task.id, title="Mine", expected_version=1)
    assert (caught.value.expected, caught.value.current) == (1, 2)
    assert db.transact(tasks.get_task, task.id).title == "Theirs"
    assert [a for a, _ in actions(db, board.id)].count("task.updated") == 1


def test_update_with_nothing_to_change_is_invalid(db, board, todo):
    task = db.transact(tasks.create_task, todo.id, "T")
    with pytest.raises(concord.InvalidInput, match="nothing to update"):
        db.transact(tasks.update_task, task.id)


def test_tasks_go_last_by_default_and_an_explicit_position_makes_room(db, board, todo):
    for title in ("a", "b", "c"):
        db.transact(tasks.create_task, todo.id, title)
    db.transact(tasks.create_task, todo.id, "first", position=0)
    db.transact(tasks.create_task, todo.id, "second", position=1)
    assert order(db, todo.id) == ["first", "second", "a", "b", "c"]
    assert [t.position for t in db.transact(tasks.tasks_in_list, todo.id)] == [0, 1, 2, 3, 4]


def test_an_explicit_position_in_a_gap_shifts_nobody(db, board, todo):
    db.transact(tasks.create_task, todo.id, "a", position=0)
    db.transact(tasks.create_task, todo.id, "z", position=10)
    db.transact(tasks.create_task, todo.id, "m", position=5)
    assert [(t.title, t.position) for t in db.transact(tasks.tasks_in_list, todo.id)] == [
        ("a", 0),
        ("m", 5),
        ("z", 10),
    ]


def test_shifting_neighbours_leaves_their_versions_alone(db, board, todo):
    a = db.transact(tasks.create_task, todo.id, "a")
    db.transact(tasks.create_task, todo.id, "b", position=0)
    moved_down = db.transact(tasks.get_task, a.id)
    assert (moved_down.position, moved_down.version) == (1, 1)


def test_moving_within_the_same_list_without_a_position_keeps_it(db, board, todo):
    a = db.transact(tasks.create_task, todo.id, "a")
    db.transact(tasks.create_task, todo.id, "b")
    moved = db.transact(tasks.move_task, a.id, todo.id)
    assert (moved.position, moved.version) == (0, 2)
    assert order(db, todo.id) == ["a", "b"]


def test_moving_within_the_same_list_to_the_top_puts_it_first(db, board, todo):
    for title in ("a", "b", "c"):
        db.transact(tasks.create_task, todo.id, title)
    c = db.transact(tasks.tasks_in_list, todo.id)[-1]
    db.transact(tasks.move_task, c.id, todo.id, position=0)
    assert order(db, todo.id) == ["c", "a", "b"]


def test_moving_within_a_full_list_is_not_a_wip_violation(db, board, doing):
    a = db.transact(tasks.create_task, doing.id, "a")
    db.transact(tasks.create_task, doing.id, "b")
    assert db.transact(tasks.move_task, a.id, doing.id, position=5).position == 5


def test_moving_into_a_full_list_is_refused_and_nothing_moves(db, board, todo, doing):
    db.transact(tasks.create_task, doing.id, "a")
    db.transact(tasks.create_task, doing.id, "b")
    task = db.transact(tasks.create_task, todo.id, "c")
    with pytest.raises(concord.WipLimitExceeded):
        db.transact(tasks.move_task, task.id, doing.id, position=0)
    assert order(db, doing.id) == ["a", "b"]
    assert db.transact(tasks.get_task, task.id).version == 1


def test_creating_in_a_full_list_is_refused(db, board, doing):
    db.transact(tasks.create_task, doing.id, "a")
    db.transact(tasks.create_task, doing.id, "b")
    with pytest.raises(concord.WipLimitExceeded, match="adding a task would exceed it"):
        db.transact(tasks.create_task, doing.id, "c")


def test_moving_to_a_list_of_another_board_is_invalid(db, board, todo):
    elsewhere = db.transact(lists.create_list, db.transact(boards.create_board, "Other").id, "L")
    task = db.transact(tasks.create_task, todo.id, "T")
    with pytest.raises(concord.InvalidInput, match="tasks move only within their board"):
        db.transact(tasks.move_task, task.id, elsewhere.id)


def test_assigning_the_same_user_again_is_a_no_op(db, board, todo):
    db.transact(users.create_user, "alice")
    task = db.transact(tasks.create_task, todo.id, "T")
    first = db.transact(tasks.assign_task, task.id, "alice")
    again = db.transact(tasks.assign_task, task.id, "alice")
    assert (first.version, again.version) == (2, 2)
    assert [a for a, _ in actions(db, board.id)].count("task.assigned") == 1


def test_assigning_a_held_task_needs_reassign(db, board, todo):
    db.transact(users.create_user, "alice")
    bob = db.transact(users.create_user, "bob")
    task = db.transact(tasks.create_task, todo.id, "T", assignee="alice")
    with pytest.raises(concord.AlreadyAssigned, match="already assigned to 'alice'"):
        db.transact(tasks.assign_task, task.id, "bob")
    taken = db.transact(tasks.assign_task, task.id, bob.id, reassign=True)
    assert (taken.assignee_id, taken.version) == (bob.id, 2)


def test_assign_with_a_stale_version_is_refused(db, board, todo):
    db.transact(users.create_user, "alice")
    task = db.transact(tasks.create_task, todo.id, "T")
    db.transact(tasks.update_task, task.id, points=1)
    with pytest.raises(concord.StaleVersion):
        db.transact(tasks.assign_task, task.id, "alice", expected_version=1)


def test_deleting_a_user_unassigns_their_tasks(db, board, todo):
    alice = db.transact(users.create_user, "alice")
    task = db.transact(tasks.create_task, todo.id, "T", assignee=alice.id)
    with db.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM users WHERE id = :id"), {"id": alice.id})
    kept = db.transact(tasks.get_task, task.id)
    assert (kept.assignee_id, kept.title) == (None, "T")


def test_deleting_a_list_deletes_its_tasks_and_unlinks_their_activity(db, board, todo):
    task = db.transact(tasks.create_task, todo.id, "T")
    db.transact(lists.delete_list, todo.id)
    with pytest.raises(concord.NotFound):
        db.transact(tasks.get_task, task.id)
    assert actions(db, board.id)[-2:] == [("task.created", None), ("list.deleted", None)]


def test_deleting_a_board_deletes_lists_tasks_and_activity(db, board, todo):
    db.transact(tasks.create_task, todo.id, "T")
    other = db.transact(boards.create_board, "Other")
    db.transact(boards.delete_board, board.id)
    with db.engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(Task)) == 0
        assert conn.scalar(sa.select(sa.func.count(sa.distinct(Activity.board_id)))) == 1
    assert [b.id for b in db.transact(boards.list_boards)] == [other.id]


def test_delete_task_with_a_stale_version_is_refused(db, board, todo):
    task = db.transact(tasks.create_task, todo.id, "T")
    db.transact(tasks.update_task, task.id, points=2)
    with pytest.raises(concord.StaleVersion):
        db.transact(tasks.delete_task, task.id, expected_version=1)
    assert db.transact(tasks.delete_task, task.id, expected_version=2).id == task.id


def test_users_are_unique_trimmed_and_never_all_digits(db):
    alice = db.transact(users.create_user, "  alice ")
    assert alice.name == "alice"
    with pytest.raises(concord.UniqueViolation):
        db.transact(users.create_user, "alice")
    with pytest.raises(concord.InvalidInput, match="all digits"):
        db.transact(users.create_user, "123")
    assert (
        db.transact(users.get_user, "alice").id == db.transact(users.get_user, str(alice.id)).id == alice.id
    )
    assert db.transact(users.create_user, "R2D2").name == "R2D2"


def test_a_create_racing_a_create_of_the_same_name_waits_and_is_told_the_name_is_taken(db):
    """The unique index decides: the second waits for the first's commit, then gets a clear refusal."""
    outcome: list[BaseException | None] = []

    def second_create() -> None:
        try:
            db.transact(users.create_user, "alice")
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    with db.unit_of_work() as first:
        users.create_user(first, "alice")
        waiter = threading.Thread(target=second_create)
        waiter.start()
        wait_until_blocked_on_a_lock(db)  # on the first's uncommitted index entry
        first.commit()
    waiter.join(timeout=10)
    [error] = outcome
    assert isinstance(error, concord.UniqueViolation)
    assert (str(error), error.sqlstate) == ("user 'alice' already exists: choose another name", "23505")
    assert [u.name for u in db.transact(users.list_users)] == ["alice"]


def test_a_create_waits_for_a_concurrent_create_and_then_respects_the_wip_limit(db, board):
    """The list row lock serialises creates: the second sees the first's task and is refused."""
    narrow = db.transact(lists.create_list, board.id, "Narrow", wip_limit=1)
    outcome: list[BaseException | None] = []

    def second_create() -> None:
        try:
            db.transact(tasks.create_task, narrow.id, "second")
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    with db.unit_of_work() as first:
        tasks.create_task(first, narrow.id, "first")
        waiter = threading.Thread(target=second_create)
        waiter.start()
        wait_until_blocked_on_a_lock(db)
        first.commit()
    waiter.join(timeout=10)
    [error] = outcome
    assert isinstance(error, concord.WipLimitExceeded)
    assert order(db, narrow.id) == ["first"]


def wait_until_blocked_on_a_lock(db, timeout: float = 10.0) -> None:
    """Poll until another session of this database waits on a lock (bounded; no fixed sleep)."""
    deadline = time.monotonic() + timeout
    query = sa.text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND wait_event_type = 'Lock'"
    )
    with db.engine.connect() as conn:
        while conn.scalar(query) == 0:
            assert time.monotonic() < deadline, "the second create never waited for the list lock"
            time.sleep(0.02)
            conn.rollback()


def test_crossing_moves_with_positions_run_one_after_the_other(db, board, todo):
    """A move with a position locks both lists in id order, so a crossing move waits for it whole
    instead of each holding rows the other must shift (which could deadlock)."""
    other = db.transact(lists.create_list, board.id, "Other")
    mine = db.transact(tasks.create_task, todo.id, "mine")
    theirs = db.transact(tasks.create_task, other.id, "theirs")
    outcome: list[BaseException | None] = []

    def crossing_move() -> None:
        try:
            db.transact(tasks.move_task, theirs.id, todo.id, position=0)
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    with db.unit_of_work() as first:
        tasks.move_task(first, mine.id, other.id, position=0)
        waiter = threading.Thread(target=crossing_move)
        waiter.start()
        wait_until_blocked_on_a_lock(db)
        first.commit()
    waiter.join(timeout=10)
    assert outcome == [None]
    assert (order(db, todo.id), order(db, other.id)) == (["theirs"], ["mine"])


def test_a_connection_lost_mid_transaction_names_the_server_and_commits_nothing(db):
    def create_then_lose_the_connection(uow):
        boards.create_board(uow, "Lost")
        uow.session.execute(sa.text("SELECT pg_terminate_backend(pg_backend_pid())"))

    with pytest.raises(concord.DatabaseUnavailable) as caught:
        db.transact(create_then_lose_the_connection)
    assert caught.value.message.startswith(f"cannot reach the database at {db.display_url}: ")
    assert caught.value.message.endswith("; is the server running? check --database-url")
    assert db.transact(boards.list_boards) == []
