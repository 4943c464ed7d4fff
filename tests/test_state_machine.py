"""A hypothesis state machine drives the use cases with random CRUD and checks the database against
an in-memory model after every step.

Each step is one use case in its own transaction (as the command line runs them), with inputs
drawn to hit both the happy path and every refusal: unknown ids, blank and over-long names, digits
as user names, negative or out-of-range numbers, stale versions, full lists, other boards, held
tasks. The model predicts the outcome (the result, or which typed error), and after every step the
whole database (every row of every table, activity included) must equal the model.

Every example starts from an emptied database with identities restarted (a TRUNCATE, much cheaper
than a new clone), in a database of this module's own.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from shared_db import empty, module_database_url  # noqa: F401

import concord
from concord.models import Activity, Board, Task, TaskList, User
from concord.services import boards, lists, tasks, users

OUTCOMES: Counter[str] = Counter()  # how often each use case met each outcome (see the test's report)
UNKNOWN = 10**6  # an id no row has
INT_MAX = 2**31 - 1


def mostly(valid: st.SearchStrategy, invalid: st.SearchStrategy) -> st.SearchStrategy:
    """Valid values four times in five: refusals are tested, and the board still grows."""
    return st.sampled_from([True, True, True, True, False]).flatmap(lambda ok: valid if ok else invalid)


NAMES = mostly(
    st.sampled_from(["Roadmap", "Ops", "  padded  ", "n" * 200]),
    st.sampled_from(["", "   ", "n" * 201, "line\nbreak"]),
)
TITLES = mostly(
    st.sampled_from(["Ship it", "Fix bug", " spaced ", "t" * 500]), st.sampled_from(["", "t" * 501])
)
USER_NAMES = mostly(
    st.sampled_from(["alice", "bob", " alice ", "carol", "R2D2"]), st.sampled_from(["42", "", "u" * 201])
)
STATUSES = mostly(st.sampled_from(["todo", "doing", "done"]), st.just("blocked"))
POSITIONS = mostly(st.one_of(st.none(), st.integers(0, 4)), st.sampled_from([-1, INT_MAX + 1]))
WIP_LIMITS = mostly(st.one_of(st.none(), st.integers(1, 3)), st.sampled_from([0, -1]))
POINTS = mostly(st.integers(0, 13), st.sampled_from([-1, INT_MAX + 1]))


@dataclass
class ModelList:
    board_id: int
    name: str
    position: int
    wip_limit: int | None


@dataclass
class ModelTask:
    list_id: int
    title: str
    status: str
    points: int
    assignee_id: int | None
    position: int
    version: int = 1
    description: str = ""


@dataclass
class Model:
    users: dict[int, str] = field(default_factory=dict)
    boards: dict[int, str] = field(default_factory=dict)
    lists: dict[int, ModelList] = field(default_factory=dict)
    tasks: dict[int, ModelTask] = field(default_factory=dict)
    activity: list[list] = field(default_factory=list)  # [board_id, action, task_id], oldest first

    def record(self, board_id: int, action: str, task_id: int | None = None) -> None:
        self.activity.append([board_id, action, task_id])

    def board_of(self, task_id: int) -> int:
        return self.lists[self.tasks[task_id].list_id].board_id

    def in_list(self, list_id: int, *, but: int | None = None) -> dict[int, ModelTask]:
        return {i: t for i, t in self.tasks.items() if t.list_id == list_id and i != but}

    def next_position(self, list_id: int) -> int:
        return max((t.position for t in self.in_list(list_id).values()), default=-1) + 1

    def make_room(self, list_id: int, position: int, *, moving: int | None = None) -> None:
        """Mirror of TaskRepository.make_room: shift only when the position is taken."""
        others = self.in_list(list_id, but=moving)
        if any(t.position == position for t in others.values()):
            for t in others.values():
                if t.position >= position:
                    t.position += 1

    def forget_task(self, task_id: int) -> None:
        """The task's rows are gone; its activity stays, unlinked (ON DELETE SET NULL)."""
        del self.tasks[task_id]
        for entry in self.activity:
            if entry[2] == task_id:
                entry[2] = None


def clean_name(raw: str, limit: int) -> str | None:
    """What validation.name accepts, trimmed; None when it refuses."""
    trimmed = raw.strip()
    if not trimmed or len(trimmed) > limit or any(ord(ch) < 32 for ch in trimmed):
        return None
    return trimmed


def valid_position(p: int | None) -> bool:
    return p is None or 0 <= p <= INT_MAX


class BoardMachine(RuleBasedStateMachine):
    def __init__(self, db: concord.Concord, url) -> None:
        super().__init__()
        empty(url)
        self.db = db
        self.model = Model()

    # helpers

    def pick(self, data, ids) -> int:
        """One of the existing ids, or (one time in eight, or when there is none) one nobody has."""
        if not ids or not data.draw(st.sampled_from([True] * 7 + [False])):
            return UNKNOWN
        return data.draw(st.sampled_from(sorted(ids)))

    def attempt(self, expected: type[Exception] | None, operation, *args, **kwargs):
        """Run one use case in its own transaction; it must fail with ``expected``, or succeed if None."""
        OUTCOMES[f"{operation.__name__}: {expected.__name__ if expected else 'ok'}"] += 1
        if expected is None:
            return self.db.transact(operation, *args, **kwargs)
        with pytest.raises(expected):
            self.db.transact(operation, *args, **kwargs)
        return None

    def user_ref(self, data) -> tuple[int | str, int | None]:
        """A reference to a user by id or name (or to nobody), and the id it resolves to."""
        known = sorted(self.model.users.items())
        refs = [(uid, uid) for uid, _ in known] + [(name, uid) for uid, name in known]
        return data.draw(st.sampled_from([*refs, ("ghost", None), (UNKNOWN, None)]))

    # users

    @rule(raw=USER_NAMES)
    def create_user(self, raw):
        name = clean_name(raw, 200)
        if name is None or name.isdigit():
            self.attempt(concord.InvalidInput, users.create_user, raw)
        elif name in self.model.users.values():
            self.attempt(concord.UniqueViolation, users.create_user, raw)
        else:
            user = self.attempt(None, users.create_user, raw)
            assert user.name == name
            self.model.users[user.id] = name

    @precondition(lambda self: len(self.model.users) >= 3)
    @rule(data=st.data())
    def delete_user(self, data):
        """There is no use case for it; the foreign key must unassign the user's tasks."""
        user_id = data.draw(st.sampled_from(sorted(self.model.users)))
        with self.db.engine.begin() as conn:
            conn.execute(sa.delete(User).where(User.id == user_id))
        del self.model.users[user_id]
        for task in self.model.tasks.values():
            if task.assignee_id == user_id:
                task.assignee_id = None

    # boards

    @rule(raw=NAMES)
    def create_board(self, raw):
        name = clean_name(raw, 200)
        if name is None:
            self.attempt(concord.InvalidInput, boards.create_board, raw)
            return
        board = self.attempt(None, boards.create_board, raw)
        self.model.boards[board.id] = name
        self.model.record(board.id, "board.created")

    @rule(data=st.data(), raw=NAMES)
    def rename_board(self, data, raw):
        board_id, name = self.pick(data, self.model.boards), clean_name(raw, 200)
        if board_id not in self.model.boards:
            self.attempt(concord.NotFound, boards.rename_board, board_id, raw)
        elif name is None:
            self.attempt(concord.InvalidInput, boards.rename_board, board_id, raw)
        else:
            assert self.attempt(None, boards.rename_board, board_id, raw).name == name
            self.model.boards[board_id] = name
            self.model.record(board_id, "board.renamed")

    # Deletes wait for a few more boards or lists than the start: otherwise they wipe the board so
    # often that moves, assigns and versioned updates rarely meet a task.
    @precondition(lambda self: len(self.model.boards) >= 3)
    @rule(data=st.data())
    def delete_board(self, data):
        board_id = self.pick(data, self.model.boards)
        if board_id not in self.model.boards:
            self.attempt(concord.NotFound, boards.delete_board, board_id)
            return
        self.attempt(None, boards.delete_board, board_id)
        m = self.model
        del m.boards[board_id]
        for list_id in [i for i, lst in m.lists.items() if lst.board_id == board_id]:
            for task_id in list(m.in_list(list_id)):
                m.forget_task(task_id)
            del m.lists[list_id]
        m.activity = [entry for entry in m.activity if entry[0] != board_id]

    # lists

    @initialize()
    def a_board_to_start_with(self):
        """Two boards, three lists (one with a WIP limit) and two users, made by the use cases."""
        self.create_user("alice")
        self.create_user("bob")
        self.create_board("Roadmap")
        self.create_board("Other")
        self.add_list(1, "Todo", None, None)
        self.add_list(1, "Doing", 2, None)
        self.add_list(2, "Elsewhere", None, None)
        for title in ("Ship it", "Fix bug", "Write docs"):
            self.add_task(1, title, "todo", 1, None, None, None)

    @rule(data=st.data(), raw=NAMES, wip_limit=WIP_LIMITS, position=POSITIONS)
    def create_list(self, data, raw, wip_limit, position):
        self.add_list(self.pick(data, self.model.boards), raw, wip_limit, position)

    def add_list(self, board_id, raw, wip_limit, position):
        name = clean_name(raw, 200)
        args = (lists.create_list, board_id, raw)
        kwargs = {"wip_limit": wip_limit, "position": position}
        if board_id not in self.model.boards:
            self.attempt(concord.NotFound, *args, **kwargs)
        elif name is None or (wip_limit is not None and wip_limit < 1) or not valid_position(position):
            self.attempt(concord.InvalidInput, *args, **kwargs)
        else:
            created = self.attempt(None, *args, **kwargs)
            if position is None:
                on_board = [lst.position for lst in self.model.lists.values() if lst.board_id == board_id]
                position = max(on_board, default=-1) + 1
            self.model.lists[created.id] = ModelList(board_id, name, position, wip_limit)
            self.model.record(board_id, "list.created")

    @rule(data=st.data(), raw=NAMES)
    def rename_list(self, data, raw):
        list_id, name = self.pick(data, self.model.lists), clean_name(raw, 200)
        if name is None:
            self.attempt(concord.InvalidInput, lists.rename_list, list_id, raw)
        elif list_id not in self.model.lists:
            self.attempt(concord.NotFound, lists.rename_list, list_id, raw)
        else:
            self.attempt(None, lists.rename_list, list_id, raw)
            self.model.lists[list_id].name = name
            self.model.record(self.model.lists[list_id].board_id, "list.renamed")

    @precondition(lambda self: len(self.model.lists) >= 5)
    @rule(data=st.data())
    def delete_list(self, data):
        list_id = self.pick(data, self.model.lists)
        if list_id not in self.model.lists:
            self.attempt(concord.NotFound, lists.delete_list, list_id)
            return
        self.attempt(None, lists.delete_list, list_id)
        for task_id in list(self.model.in_list(list_id)):
            self.model.forget_task(task_id)
        self.model.record(self.model.lists.pop(list_id).board_id, "list.deleted")

    # tasks

    @rule(data=st.data(), raw=TITLES, status=STATUSES, points=POINTS, position=POSITIONS)
    def create_task(self, data, raw, status, points, position):
        assignee, assignee_id = self.user_ref(data) if data.draw(st.booleans()) else (None, None)
        self.add_task(self.pick(data, self.model.lists), raw, status, points, position, assignee, assignee_id)

    def add_task(self, list_id, raw, status, points, position, assignee, assignee_id):
        m, title = self.model, clean_name(raw, 500)
        call = (tasks.create_task, list_id, raw)
        kwargs = {"status": status, "points": points, "assignee": assignee, "position": position}
        # The order of the checks is the use case's: inputs, then the list, the assignee, the WIP limit.
        if title is None or status == "blocked" or not 0 <= points <= INT_MAX or not valid_position(position):
            self.attempt(concord.InvalidInput, *call, **kwargs)
        elif list_id not in m.lists or (assignee is not None and assignee_id is None):
            self.attempt(concord.NotFound, *call, **kwargs)
        elif m.lists[list_id].wip_limit is not None and len(m.in_list(list_id)) >= m.lists[list_id].wip_limit:
            self.attempt(concord.WipLimitExceeded, *call, **kwargs)
        else:
            task = self.attempt(None, *call, **kwargs)
            if position is None:
                position = m.next_position(list_id)
            else:
                m.make_room(list_id, position)
            m.tasks[task.id] = ModelTask(list_id, title, status, points, assignee_id, position)
            m.record(m.lists[list_id].board_id, "task.created", task.id)

    def version_for(self, data, task_id: int) -> int | None:
        """No version, the current one, or a stale one."""
        current = self.model.tasks[task_id].version if task_id in self.model.tasks else 1
        return data.draw(st.sampled_from([None, None, current, current, current + 1]))

    @rule(
        data=st.data(),
        raw=st.one_of(st.none(), TITLES),
        status=st.one_of(st.none(), STATUSES),
        points=st.one_of(st.none(), POINTS),
    )
    def update_task(self, data, raw, status, points):
        m = self.model
        task_id = self.pick(data, m.tasks)
        expected = self.version_for(data, task_id)
        title = None if raw is None else clean_name(raw, 500)
        call = (tasks.update_task, task_id)
        kwargs = {"title": raw, "status": status, "points": points, "expected_version": expected}
        if (
            (raw is not None and title is None)
            or status == "blocked"
            or (points is not None and not 0 <= points <= INT_MAX)
            or (raw, status, points) == (None, None, None)
        ):
            self.attempt(concord.InvalidInput, *call, **kwargs)
        elif task_id not in m.tasks:
            self.attempt(concord.NotFound, *call, **kwargs)
        elif expected is not None and expected != m.tasks[task_id].version:
            self.attempt(concord.StaleVersion, *call, **kwargs)
        else:
            updated = self.attempt(None, *call, **kwargs)
            task = m.tasks[task_id]
            changes = {"title": title, "status": status, "points": points}
            m.tasks[task_id] = replace(
                task, **{k: v for k, v in changes.items() if v is not None}, version=task.version + 1
            )
            assert updated.version == task.version + 1
            m.record(m.board_of(task_id), "task.updated", task_id)

    @rule(data=st.data(), position=POSITIONS)
    def move_task(self, data, position):
        m = self.model
        task_id, to_list = self.pick(data, m.tasks), self.pick(data, m.lists)
        expected = self.version_for(data, task_id)
        call = (tasks.move_task, task_id, to_list)
        kwargs = {"position": position, "expected_version": expected}
        task = m.tasks.get(task_id)
        target = m.lists.get(to_list)
        if not valid_position(position):
            self.attempt(concord.InvalidInput, *call, **kwargs)
        elif task is None:
            self.attempt(concord.NotFound, *call, **kwargs)
        elif expected is not None and expected != task.version:
            self.attempt(concord.StaleVersion, *call, **kwargs)
        elif target is None:
            self.attempt(concord.NotFound, *call, **kwargs)
        elif target.board_id != m.lists[task.list_id].board_id:
            self.attempt(concord.InvalidInput, *call, **kwargs)
        elif (
            to_list != task.list_id
            and target.wip_limit is not None
            and len(m.in_list(to_list)) >= target.wip_limit
        ):
            self.attempt(concord.WipLimitExceeded, *call, **kwargs)
        else:
            moved = self.attempt(None, *call, **kwargs)
            if position is None:
                position = task.position if to_list == task.list_id else m.next_position(to_list)
            else:
                m.make_room(to_list, position, moving=task_id)
            task.list_id, task.position, task.version = to_list, position, task.version + 1
            assert (moved.list_id, moved.position, moved.version) == (to_list, position, task.version)
            m.record(target.board_id, "task.moved", task_id)

    @rule(data=st.data(), reassign=st.booleans())
    def assign_task(self, data, reassign):
        m = self.model
        task_id = self.pick(data, m.tasks)
        user, user_id = self.user_ref(data)
        expected = self.version_for(data, task_id)
        call = (tasks.assign_task, task_id, user)
        kwargs = {"reassign": reassign, "expected_version": expected}
        task = m.tasks.get(task_id)
        if user_id is None or task is None:
            self.attempt(concord.NotFound, *call, **kwargs)
        elif expected is not None and expected != task.version:
            self.attempt(concord.StaleVersion, *call, **kwargs)
        elif task.assignee_id == user_id:
            assert self.attempt(None, *call, **kwargs).version == task.version  # a no-op
        elif task.assignee_id is not None and not reassign:
            self.attempt(concord.AlreadyAssigned, *call, **kwargs)
        else:
            self.attempt(None, *call, **kwargs)
            task.assignee_id, task.version = user_id, task.version + 1
            m.record(m.board_of(task_id), "task.assigned", task_id)

    @rule(data=st.data())
    def delete_task(self, data):
        m = self.model
        task_id = self.pick(data, m.tasks)
        expected = self.version_for(data, task_id)
        if task_id not in m.tasks:
            self.attempt(concord.NotFound, tasks.delete_task, task_id, expected_version=expected)
        elif expected is not None and expected != m.tasks[task_id].version:
            self.attempt(concord.StaleVersion, tasks.delete_task, task_id, expected_version=expected)
        else:
            self.attempt(None, tasks.delete_task, task_id, expected_version=expected)
            board_id = m.board_of(task_id)
            m.forget_task(task_id)
            m.record(board_id, "task.deleted")

    # the check after every step

    @invariant()
    def database_equals_model(self):
        m = self.model
        with self.db.engine.connect() as conn:

            def rows(statement):
                return [tuple(r) for r in conn.execute(statement)]

            assert dict(rows(sa.select(User.id, User.name))) == m.users
            assert dict(rows(sa.select(Board.id, Board.name))) == m.boards
            assert {
                i: ModelList(*rest)
                for i, *rest in rows(
                    sa.select(
                        TaskList.id, TaskList.board_id, TaskList.name, TaskList.position, TaskList.wip_limit
                    )
                )
            } == m.lists
            assert {
                i: ModelTask(*rest)
                for i, *rest in rows(
                    sa.select(
                        Task.id,
                        Task.list_id,
                        Task.title,
                        Task.status,
                        Task.points,
                        Task.assignee_id,
                        Task.position,
                        Task.version,
                        Task.description,
                    )
                )
            } == m.tasks
            assert [
                list(r)
                for r in rows(
                    sa.select(Activity.board_id, Activity.action, Activity.task_id).order_by(Activity.id)
                )
            ] == m.activity

    @invariant()
    def no_list_holds_more_than_its_wip_limit(self):
        for list_id, task_list in self.model.lists.items():
            if task_list.wip_limit is not None:
                assert len(self.model.in_list(list_id)) <= task_list.wip_limit


def test_random_crud_keeps_the_database_equal_to_the_model(module_database_url):  # noqa: F811
    with concord.connect(module_database_url) as db:
        run_state_machine_as_test(
            lambda: BoardMachine(db, module_database_url),
            settings=settings(
                max_examples=15,
                stateful_step_count=40,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            ),
        )
    print(*sorted(OUTCOMES.items()), sep="\n")
