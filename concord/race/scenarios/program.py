"""What every program shares: the fixture it runs on, the strategy's run-time strategy, guards.

A `Program` is built by its scenario on the coordinator (which compiles the statements with
SQLAlchemy) and runs in a worker, possibly another process. Everything here, and in the
program modules, imports no SQLAlchemy and no ORM: a worker process loads only psycopg and
these small modules (`concord.race.executors.processes` preloads them in its fork server).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from concord.errors import StaleVersion
from concord.locking.keys import EXPECTED_VERSION, EntityKey, lock_order
from concord.race.steps import Fetch, Operation, Sql

if TYPE_CHECKING:
    from concord.locking.base import LockingStrategy


@dataclass
class Fixture:
    """The rows a cell created: plain ids, so the fixture travels to worker processes."""

    board_id: int
    workers: int
    lists: dict[str, int] = field(default_factory=dict)
    tasks: list[int] = field(default_factory=list)
    users: list[int] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CompiledStrategy:
    """What a worker needs of a locking strategy at run time, without the strategy's class."""

    name: str
    compares_version: bool
    orders_keys: bool
    guard_sql: Sql | None  # the compiled guard statement (advisory), with a ``key`` parameter
    guard_key: Callable[[str, int], int] | None

    @classmethod
    def of(cls, strategy: LockingStrategy) -> CompiledStrategy:
        guard = strategy.guard_statement()
        return cls(
            name=strategy.name,
            compares_version=strategy.compares_version,
            orders_keys=strategy.orders_keys,
            guard_sql=Sql.of(guard, Fetch.NOTHING) if guard is not None else None,
            guard_key=strategy.guard_key_function,
        )


class Program:
    """The compiled operation of one scenario under one strategy (picklable)."""

    #: Whether the operation's generator reaches its first step without touching the server, so
    #: a blocking session may make that step before it sends ``BEGIN``
    #: (`concord.race.libpq.LibpqSession.transaction`). Built-in programs only compute their
    #: steps; a user scenario's runs the user's code on the connection in its first step: False.
    first_step_offline: bool = True

    def __init__(self, strategy: CompiledStrategy, fixture: Fixture) -> None:
        self.strategy = strategy
        self.fixture = fixture
        self.compares_version = strategy.compares_version  # read twice per write: one lookup

    def attach(self, worker: int, session: Any, seed: int) -> None:
        """Called once in each worker, with its libpq session (``session.conn`` is its psycopg
        connection, in autocommit mode: the session sends BEGIN and COMMIT) and its seed, before
        the race. Built-in programs keep nothing: their statements are steps the worker runs. A
        user scenario's program runs the user's code on the session's connection."""

    def operation(self, worker: int, seq: int) -> Operation | None:
        """The generator one worker runs for its ``seq``-th operation; None when nothing is left."""
        raise NotImplementedError

    @property
    def guards(self) -> bool:
        return self.strategy.guard_sql is not None

    def guard(self, *keys: EntityKey) -> list[tuple[Sql, dict[str, Any]]]:
        """The guard steps (advisory locks) for ``keys``, in the strategy's lock order."""
        sql, key_of = self.strategy.guard_sql, self.strategy.guard_key
        if sql is None or key_of is None:
            return []
        return [(sql, {"key": key_of(k.namespace, k.id)}) for k in self.order(keys)]

    def order(self, keys: Sequence[EntityKey]) -> list[EntityKey]:
        return lock_order(keys, ascending=self.strategy.orders_keys)

    def write_params(self, params: dict[str, Any], version: int) -> dict[str, Any]:
        """``params`` plus the version to compare with, when the strategy writes compare-and-set."""
        if self.compares_version:
            params[EXPECTED_VERSION] = version
        return params

    def check_written(self, rowcount: int | None, entity: str, key: object, expected_version: int) -> None:
        """Raise `StaleVersion` when a compare-and-set write matched no row (``rowcount`` is None
        when the strategy compares no version and its write fetched nothing)."""
        if self.compares_version and rowcount == 0:
            raise StaleVersion(entity, key, expected_version, None)
