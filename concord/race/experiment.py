"""An experiment: one scenario and the matrix of strategies x isolation levels x worker counts.

Experiments are declared in TOML (``experiments/*.toml``) or built in code; the command line
builds one from its options. `concord.race.plan.plan_run` validates it once, with `InvalidInput`
for anything a user could mistype, and resolves its names into the objects that run.

    scenario   = "counter"
    strategies = ["none", "pessimistic"]        # or "all": every strategy that fits the scenario
    isolations = ["read committed"]             # or "all"
    workers    = [8, 50]
    executor   = "threads"
    duration   = 3.0                            # seconds per cell; or ops = 5000 in total per cell
    max_tries  = 10
    lock_timeout      = "50ms"                  # optional: SET for every worker session; its
    statement_timeout = "1s"                    # errors count as conflict kinds of their own
    waits = true                                # sample where the workers' time went (default)
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from concord.db.engine import Isolation
from concord.errors import InvalidInput
from concord.race.scenarios import Scenario, get_scenario

DEFAULT_SCENARIO = "counter"
# Threads by default: they start at once (a fork server and 50 children cost seconds on a small
# machine), they stop cleanly on Ctrl-C, and the GIL is released while libpq waits on the server,
# which is where a racing worker spends its time. At 50 workers on one contended row (counter,
# pessimistic, 2-core machine) the three executors measured within noise of each other
# (threads ~360, asyncio ~400, processes ~340 commits/s in one run), so startup and stopping decide.
DEFAULT_EXECUTOR = "threads"
DEFAULT_DURATION_S = 3.0
DEFAULT_MAX_TRIES = 10
DEFAULT_WORKERS = (8,)
#: A PostgreSQL duration as the timeouts accept it: a number, optionally with a unit (ms default).
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(us|ms|s|min|h|d)?\s*$")


@dataclass(frozen=True)
class Cell:
    scenario: str
    strategy: str
    isolation: str
    workers: int


@dataclass(frozen=True)
class Experiment:
    scenario: str = DEFAULT_SCENARIO
    strategies: tuple[str, ...] = ()
    isolations: tuple[str, ...] = ()
    workers: tuple[int, ...] = DEFAULT_WORKERS
    executor: str = DEFAULT_EXECUTOR
    duration_s: float | None = None
    ops: int | None = None
    max_tries: int = DEFAULT_MAX_TRIES
    name: str | None = None
    description: str = ""
    seed: int = 0
    lock_timeout: str | None = None
    statement_timeout: str | None = None
    #: Sample the workers' backends for a wait profile (`concord.race.waits`); off for a run
    #: that must not pay for it (the overhead benchmark's baseline).
    waits: bool = True
    extra: dict[str, Any] = field(default_factory=dict)
    #: A user's scenario: what named it (``path/file.py:NAME``, ``package.module:NAME``, an entry
    #: point); ``scenario`` is then the scenario's own name. None for the built-in ones.
    scenario_source: str | None = None

    def validated(self, scenario: Scenario | None = None) -> Experiment:
        """This experiment with names normalised and defaults filled; `InvalidInput` if malformed.

        ``scenario``, when given, is the object the cells run (instead of looking up the name).
        What runs is planned by `concord.race.plan.plan_run`, which this calls: use it to keep the
        objects the names resolve to.
        """
        from concord.race.plan import plan_run

        return plan_run(self, scenario).experiment

    def resolve_scenario(self) -> Scenario:
        """The scenario object this experiment names (a user's is imported once per process)."""
        return get_scenario(self.scenario_source or self.scenario)

    def session_settings(self) -> tuple[tuple[str, str], ...]:
        """The settings every worker session starts with (the timeouts that were given)."""
        named = (("lock_timeout", self.lock_timeout), ("statement_timeout", self.statement_timeout))
        return tuple((name, value) for name, value in named if value is not None)

    def cells(self) -> list[Cell]:
        """The matrix, strategy-major: every isolation and worker count of one strategy together."""
        return [
            Cell(self.scenario, s, i, w)
            for s in self.strategies
            for i in self.isolations
            for w in self.workers
        ]

    def parameters(self) -> dict[str, Any]:
        out = asdict(self)
        if out["scenario_source"] is None:  # built-in scenarios' documents keep their keys
            del out["scenario_source"]
        out["strategies"], out["isolations"], out["workers"] = (
            list(self.strategies),
            list(self.isolations),
            list(self.workers),
        )
        return out


def expand_isolations(names: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Isolation level names checked and normalised; 'all' means every level."""
    if [n.strip().lower() for n in names] == ["all"]:
        return tuple(level.value for level in Isolation)
    out: list[str] = []
    for name in names:
        level = Isolation.parse(name).value
        if level not in out:
            out.append(level)
    return tuple(out)


def parse_timeout(name: str, value: str | int | None) -> str | None:
    """'50ms', '1s', '2 min' or a number of milliseconds -> PostgreSQL's text; None stays None."""
    if value is None:
        return None
    found = _DURATION.match(str(value))
    if found is None or float(found.group(1)) <= 0:
        raise InvalidInput(f"{name} must be a positive duration such as 50ms or 1s, not {value!r}")
    return f"{found.group(1)}{found.group(2) or 'ms'}"


def split_list(value: str) -> list[str]:
    """'a, b,c' -> ['a', 'b', 'c'] (the command line's comma-separated values)."""
    return [part.strip() for part in value.split(",") if part.strip()]


def parse_workers(value: str) -> tuple[int, ...]:
    counts = []
    for part in split_list(value):
        try:
            counts.append(int(part))
        except ValueError:
            raise InvalidInput(f"workers must be whole numbers, not {part!r}") from None
    return tuple(counts)


_TOML_KEYS = {
    "name",
    "description",
    "scenario",
    "strategies",
    "isolations",
    "workers",
    "executor",
    "duration",
    "ops",
    "max_tries",
    "seed",
    "lock_timeout",
    "statement_timeout",
    "waits",
}


def load_experiment(path: str | Path) -> Experiment:
    """Read an experiment file (TOML); unknown keys and bad values are `InvalidInput`."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise InvalidInput(f"experiment file {path} not found") from None
    except OSError as exc:  # a directory, a file not readable
        raise InvalidInput(f"cannot read the experiment file {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise InvalidInput(f"experiment file {path} is not text (UTF-8): is it a TOML file?") from None
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"experiment file {path} is not valid TOML: {exc}") from None
    unknown = sorted(set(data) - _TOML_KEYS)
    if unknown:
        raise InvalidInput(f"experiment file {path}: unknown keys {', '.join(unknown)}")
    scenario = data.get("scenario", DEFAULT_SCENARIO)
    if isinstance(scenario, str):  # a scenario file named in it is found from the experiment's folder
        from concord.race.scenarios.sources import relative_to

        scenario = relative_to(scenario, path.parent)
    return Experiment(
        scenario=scenario,
        strategies=tuple(_as_list(data.get("strategies", ()))),
        isolations=tuple(_as_list(data.get("isolations", ()))),
        workers=tuple(_as_list(data.get("workers", list(DEFAULT_WORKERS)))),
        executor=data.get("executor", DEFAULT_EXECUTOR),
        duration_s=data.get("duration"),
        ops=data.get("ops"),
        max_tries=data.get("max_tries", DEFAULT_MAX_TRIES),
        name=data.get("name", path.stem),
        description=data.get("description", ""),
        seed=data.get("seed", 0),
        lock_timeout=data.get("lock_timeout"),
        statement_timeout=data.get("statement_timeout"),
        waits=_as_bool("waits", data.get("waits", True)),
    )


def _as_bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(f"{name} must be true or false, not {value!r}")
    return value


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, str):
        return split_list(value)
    if isinstance(value, int):
        return [value]
    return list(value)
