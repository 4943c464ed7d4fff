"""The repositories and the unit of work on a real database: reads, writes, versions, locks, rollback."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from shared_db import database_url, module_database_url  # noqa: F401

import concord
from concord.models import Board, Task


@pytest.fixture
def seeded(db):
    """Board 1 with list 1 holding tasks 1 and 2; user 1 (alice)."""
    with db.unit_of_work() as uow:
        board = uow.boards.add("Roadmap")
        task_list = uow.lists.add(board.id, "Todo")
        uow.tasks.add(task_list.id, "first")
        uow.tasks.add(task_list.id, "second")
        uow.users.add("alice")
        uow.commit()
    return db


def test_a_unit_of_work_rolls_back_unless_committed(db):
    with db.unit_of_work() as uow:
        uow.boards.add("Never")
    with db.unit_of_work() as uow:
        assert uow.boards.all() == []


def test_a_unit_of_work_rolls_back_when_the_block_raises(db):
    with pytest.raises(RuntimeError), db.unit_of_work() as uow:
        uow.boards.add("Never")
        raise RuntimeError("boom")
    assert db.transact(lambda uow: uow.boards.all()) == []


def test_a_unit_of_work_translates_driver_errors_leaving_the_block(db):
    with pytest.raises(concord.InvalidInput) as caught, db.unit_of_work() as uow:
        uow.session.execute(sa.text("INSERT INTO boards (name) VALUES ('')"))  # the CHECK refuses it
    assert caught.value.sqlstate == "23514"


def test_the_session_is_only_available_inside_the_block(db):
    uow = db.unit_of_work()
    with pytest.raises(RuntimeError, match="use it in a `with` block"):
        _ = uow.session


@pytest.mark.parametrize("isolation", ["read committed", "repeatable-read", "SERIALIZABLE"])
def test_the_isolation_level_is_set_where_the_unit_of_work_opens(db, isolation):
    with db.unit_of_work(isolation=isolation) as uow:
        level = uow.session.scalar(sa.text("SHOW transaction_isolation"))
    assert level == concord.Isolation.parse(isolation).value


def test_board_get_all_rename_and_tree(seeded):
    with seeded.unit_of_work() as uow:
        assert uow.boards.get(1).name == "Roadmap"
        assert [b.id for b in uow.boards.all()] == [1]
        assert uow.boards.rename(1, "Plan").name == "Plan"
        tree = uow.boards.tree(1)
        assert [(lst.name, [t.title for t in lst.tasks]) for lst in tree.lists] == [
            ("Todo", ["first", "second"])
        ]


@pytest.mark.parametrize("board_id", [0, -1, 2, 2**63, 10**30])
def test_board_get_of_a_missing_or_impossible_id_is_not_found(db, board_id):
    with db.unit_of_work() as uow, pytest.raises(concord.NotFound) as caught:
        uow.boards.get(board_id)
    assert (caught.value.entity, caught.value.key) == ("board", board_id)


def test_lists_go_last_by_default_and_count_their_tasks(seeded):
    with seeded.unit_of_work() as uow:
        doing = uow.lists.add(1, "Doing")
        first = uow.lists.add(1, "First", position=0)
        assert doing.position == 1
        assert [lst.name for lst in uow.lists.of_board(1)] == ["Todo", "First", "Doing"]  # ties by id
        assert (uow.lists.count_tasks(1), uow.lists.count_tasks(first.id)) == (2, 0)
        assert uow.lists.set_wip_limit(doing.id, 3).wip_limit == 3
        assert uow.lists.lock(doing.id).id == doing.id


def test_task_write_bumps_the_version_and_the_update_time(seeded):
    with seeded.unit_of_work() as uow:
        before = uow.tasks.get(1)
        created, updated_at = before.created_at, before.updated_at
        uow.commit()
    with seeded.unit_of_work() as uow:
        written = uow.tasks.write(1, {"title": "renamed", "points": 3})
        assert (written.title, written.points, written.version) == ("renamed", 3, 2)
        assert written.updated_at > updated_at
        assert written.created_at == created


def test_task_write_with_the_expected_version_is_a_compare_and_set(seeded):
    with seeded.unit_of_work() as uow:
        assert uow.tasks.write(1, {"status": "doing"}, expected_version=1).version == 2
        with pytest.raises(concord.StaleVersion) as caught:
            uow.tasks.write(1, {"status": "done"}, expected_version=1)
        assert (caught.value.expected, caught.value.current) == (1, 2)
        assert uow.tasks.get(1).status == "doing"


def test_task_write_of_a_missing_task_is_not_found_even_with_a_version(seeded):
    with seeded.unit_of_work() as uow:
        with pytest.raises(concord.NotFound):
            uow.tasks.write(99, {"title": "x"}, expected_version=1)
        with pytest.raises(concord.NotFound):
            uow.tasks.write(2**63, {"title": "x"})


def test_task_write_refuses_columns_that_are_not_writable(seeded):
    with (
        seeded.unit_of_work() as uow,
        pytest.raises(ValueError, match="not writable on a task: \\['version'\\]"),
    ):
        uow.tasks.write(1, {"version": 9})


def test_make_room_shifts_only_when_the_position_is_taken(seeded):
    with seeded.unit_of_work() as uow:
        assert uow.tasks.make_room(1, 5) == 0
        assert uow.tasks.make_room(1, 1) == 1  # "second" moves from 1 to 2
        assert uow.tasks.make_room(1, 0, moving=1) == 0  # only task 1 itself is at 0
        assert [(t.title, t.position, t.version) for t in uow.tasks.in_list(1)] == [
            ("first", 0, 1),
            ("second", 2, 1),
        ]


def test_task_delete_checks_the_version_and_removes_the_row(seeded):
    with seeded.unit_of_work() as uow:
        with pytest.raises(concord.StaleVersion):
            uow.tasks.delete(1, expected_version=5)
        uow.tasks.delete(1, expected_version=1)
        assert [t.id for t in uow.tasks.in_list(1)] == [2]


def test_tasks_by_assignee_and_the_user_lookups(seeded):
    with seeded.unit_of_work() as uow:
        uow.tasks.write(2, {"assignee_id": 1})
        assert [t.id for t in uow.tasks.assigned_to(1)] == [2]
        assert uow.users.resolve("alice").id == uow.users.resolve("1").id == uow.users.resolve(1).id == 1
        assert (uow.users.exists("alice"), uow.users.exists("bob")) == (True, False)
        with pytest.raises(concord.NotFound):
            uow.users.resolve("\u0661")  # ARABIC-INDIC DIGIT ONE: isdigit() but not an id
        assert [u.name for u in uow.users.all()] == ["alice"]


def test_the_activity_feed_is_newest_first_and_limited(seeded):
    with seeded.unit_of_work() as uow:
        for n in range(3):
            uow.activity.record(1, f"step.{n}", task_id=1, detail={"n": n})
        uow.commit()
    with seeded.unit_of_work() as uow:
        feed = uow.activity.feed(1, limit=2)
        assert [(a.action, a.task_id, a.detail) for a in feed] == [
            ("step.2", 1, {"n": 2}),
            ("step.1", 1, {"n": 1}),
        ]


def test_deleting_a_board_through_the_repository_cascades_in_the_database(seeded):
    with seeded.unit_of_work() as uow:
        uow.boards.delete(1)
        uow.commit()
    with seeded.engine.connect() as conn:
        counts = [conn.scalar(sa.select(sa.func.count()).select_from(t)) for t in (Board, Task)]
    assert counts == [0, 0]
