"""A user's scenario on the coordinator: the contract (`concord.race.scenarios.user`) checked once,
then set up, raced, checked."""

from __future__ import annotations

import inspect
import re
import sys
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from concord.errors import InvalidInput
from concord.locking import LockingStrategy
from concord.nouns import count
from concord.race.results import CellTotals
from concord.race.scenarios.program import CompiledStrategy, Fixture
from concord.race.scenarios.scenario import BrokenContract, CellRefused, InvariantVerdict, Scenario
from concord.race.scenarios.user.program import Target, UserProgram, describe

REQUIRED = ("setup", "transaction", "check")
DEFAULT_STRATEGIES = ("none", "pessimistic", "optimistic", "advisory")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
#: Shown in a cell's details: the first violations the check reported.
SHOWN_VIOLATIONS = 20
#: Refused for every user scenario: `tx.lock` names its rows, SKIP LOCKED is for taking any free one.
REFUSED = {
    "skip_locked": "tx.lock names the rows it locks; SKIP LOCKED would skip a held row instead of "
    "waiting for it (it is for queues: write FOR UPDATE SKIP LOCKED in tx.execute)",
}
ASYNCIO = (
    "the asyncio executor runs statements without blocking its event loop, and a scenario's "
    "transaction(tx) is synchronous Python: use --executor threads or processes"
)


class UserScenario(Scenario):
    """A user's scenario object behind the `Scenario` interface the race engine runs."""

    needs_schema = False

    def __init__(self, obj: Any, source: str | None, target: Target | None) -> None:
        self.obj, self.source, self.target = obj, source, target
        shown = source or repr(obj)
        missing = [a for a in REQUIRED if not callable(getattr(obj, a, None))]
        missing += [a for a in ("name", "invariant") if not hasattr(obj, a)]
        if missing:
            raise InvalidInput(
                f"{shown} is not a scenario: it has no {', '.join(missing)} (a scenario has name, "
                "invariant, setup(conn), transaction(tx) and check(conn))"
            )
        if inspect.iscoroutinefunction(obj.transaction) or inspect.isgeneratorfunction(obj.transaction):
            raise InvalidInput(
                f"{shown}: transaction(tx) must be a plain function: concord calls it and commits "
                "when it returns (async def and generators are not supported)"
            )
        name = _text(obj, "name", shown)
        if not _NAME.match(name):
            raise InvalidInput(
                f"{shown}: name {name!r} must be letters, digits, '-', '_' or '.' (it names the result files)"
            )
        refused = getattr(obj, "refused", None) or {}
        if not isinstance(refused, dict):
            raise InvalidInput(f"{shown}: refused must be a dict of strategy name -> reason")
        # Class attributes in the built-in scenarios, this object's own here.
        vars(self).update(
            name=name,
            invariant=_text(obj, "invariant", shown),
            summary=_text(obj, "summary", shown, default=_doc(obj)),
            default_strategies=_names(getattr(obj, "default_strategies", None), shown) or DEFAULT_STRATEGIES,
            refused={**REFUSED, **{str(k): str(v) for k, v in refused.items()}},
        )

    def executor_refusal(self, executor: str) -> str | None:
        if executor == "asyncio":
            return f"{self.name}: {ASYNCIO}"
        if executor == "processes" and self.target is None:
            return (
                f"{self.name}: the processes executor imports the scenario in every worker process; "
                "name it by its file (path/to/file.py:NAME) or module (package.module:NAME)"
            )
        return None

    def setup(self, conn: sa.Connection, workers: int, ops: int | None) -> Fixture:
        raw = _driver(conn)
        try:
            self.obj.setup(raw)
        except Exception as exc:
            raise CellRefused(f"setup failed: {describe(exc)}") from exc
        found = self._check(raw)
        if found.error:
            raise CellRefused(found.error)
        if found.violations:
            raise CellRefused(f"the invariant does not hold after setup: {found.finding}")
        return Fixture(board_id=0, workers=workers)

    def program(self, strategy: LockingStrategy, fixture: Fixture) -> UserProgram:
        return UserProgram(
            CompiledStrategy.of(strategy),
            fixture,
            row_lock=row_lock_clause(strategy),
            scenario=self.obj,
            target=self.target,
        )

    def check(self, conn: sa.Connection, fixture: Fixture, totals: CellTotals) -> InvariantVerdict:
        found = self._check(_driver(conn))
        if totals.worker_errors and not found.error:
            return InvariantVerdict(
                found.violations, found.finding, found.details, error=_worker_error(totals.worker_errors)
            )
        return found

    def teardown(self, conn: sa.Connection, fixture: Fixture) -> None:
        """Nothing: the user's setup brings the next cell back to its starting state."""

    def _check(self, raw: Any) -> InvariantVerdict:
        try:
            result = self.obj.check(raw)
        except Exception as exc:
            error = f"check failed: {describe(exc)}"
            return InvariantVerdict(None, error, error=error)
        violations, sentences = self._read(result)
        if not violations:
            return InvariantVerdict(0, "the invariant held")
        shown = "; ".join(sentences[:3]) or f"{count(violations, 'violation')}"
        more = len(sentences) - 3
        finding = shown + (f" (and {more:,} more)" if more > 0 else "")
        return InvariantVerdict(violations, finding, {"violations": sentences[:SHOWN_VIOLATIONS]})

    def _read(self, result: Any) -> tuple[int, list[str]]:
        """``[sentences]`` or ``(count, [sentences])``; anything else breaks the contract (exit 2)."""
        if isinstance(result, list):
            return len(result), [str(s) for s in result]
        if (
            isinstance(result, tuple)
            and len(result) == 2
            and isinstance(result[0], int)
            and isinstance(result[1], list)
        ):
            return result[0], [str(s) for s in result[1]]
        raise BrokenContract(
            f"{self.source or self.name}: check(conn) must return a list of violations (sentences; "
            f"empty when the invariant holds) or (count, sentences), not {type(result).__name__}"
        )


def row_lock_clause(strategy: LockingStrategy) -> str:
    """The clause the strategy's own `read` adds to a row read (``FOR UPDATE``, ``FOR UPDATE
    NOWAIT``...), or "" when it reads plainly (none, optimistic) or guards instead (advisory)."""
    if not strategy.locks or strategy.guard_statement() is not None:
        return ""
    probe: sa.Select[Any] = sa.select(sa.literal_column("1")).select_from(sa.table("t"))
    text = str(strategy.read(probe).compile(dialect=postgresql.dialect()))
    return text.split("FROM t", 1)[1].strip()


def target_of(obj: Any) -> Target | None:
    """Where an object handed over in code can be imported from again (a module-level name), or
    None (it then runs on the threads executor only)."""
    module = obj if isinstance(obj, type(sys)) else sys.modules.get(getattr(obj, "__module__", None) or "")
    if module is None:
        return None
    attribute = None
    if module is not obj:
        attribute = next((n for n, v in vars(module).items() if v is obj), None)
        if attribute is None:
            return None
    if module.__name__ == "__main__" or module.__name__.startswith("concord_scenario_"):
        file = getattr(module, "__file__", None)
        return Target("file", file, attribute) if file else None
    return Target("module", module.__name__, attribute)


def _driver(conn: sa.Connection) -> Any:
    """The psycopg connection under SQLAlchemy's, in the transaction concord commits."""
    return conn.connection.driver_connection


def _text(obj: Any, attribute: str, shown: str, default: str | None = None) -> str:
    value = getattr(obj, attribute, default)
    if not isinstance(value, str) or (default is None and not value.strip()):
        raise InvalidInput(f"{shown}: {attribute} must be a non-empty string, not {value!r}")
    return value.strip()


def _names(value: Any, shown: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, Sequence) or not all(isinstance(v, str) for v in value):
        raise InvalidInput(f"{shown}: default_strategies must be a list of strategy names")
    return tuple(value)


def _doc(obj: Any) -> str:
    """The first paragraph of the module's or the class's own docstring ("" for a plain namespace)."""
    if isinstance(obj, type(sys)):
        doc = obj.__doc__
    else:
        doc = None if type(obj).__module__ in ("builtins", "types") else type(obj).__doc__
    return (doc or "").strip().split("\n\n")[0].replace("\n", " ")


def _worker_error(errors: Sequence[str]) -> str:
    """``worker 3: error: ZeroDivisionError: ...`` -> ``ZeroDivisionError: ... (worker 3)``."""
    first = errors[0]
    worker, _, rest = first.partition(": error: ")
    return f"{rest} ({worker})" if rest else first
