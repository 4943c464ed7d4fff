"""The races concord runs, each with an invariant checked in the database afterwards.

One package per scenario, each in two halves that never meet in one process unless it is the
coordinator's:

- ``<name>/scenario.py``, the coordinator's side: the rows it sets up, the statements it
  compiles for a locking strategy (SQLAlchemy), and the invariant it checks afterwards;
- ``<name>/program.py``, the worker's side: the compiled operation, a generator of steps
  (`concord.race.steps`), which imports no SQLAlchemy: a worker process loads only these.

What they share: `scenario.Scenario` (with the fixture building blocks) on the coordinator,
`program.Program` in the workers. ``user/`` is the user's own scenario behind the same two halves
(its contract is in `concord.race.scenarios.user`). A scenario that also races through the API
has a third module, ``<name>/http.py`` (``assign``, ``counter``; what they share is `http`).

Importing this package loads neither half: the built-in scenarios are found by name in
`BUILT_IN` and imported on first use (`SCENARIOS`, `get_scenario`), and the names below load
their module when first read, so a worker that imports ``<name>.program`` loads nothing else.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

import lazy_loader

if TYPE_CHECKING:
    from concord.race.scenarios.program import Fixture, Program
    from concord.race.scenarios.scenario import InvariantVerdict, Scenario

#: Each built-in scenario's name: its package here, and its class in the package's ``scenario``.
BUILT_IN: dict[str, tuple[str, str]] = {
    "counter": ("counter", "Counter"),
    "assign": ("assign", "Assign"),
    "wip-limit": ("wip_limit", "WipLimit"),
    "claim-queue": ("claim_queue", "ClaimQueue"),
    "transfer": ("transfer", "Transfer"),
    "list-append": ("list_append", "ListAppend"),
}

#: Every worker-side module, the user scenario's too: what the process executor's fork server
#: preloads, so that its children import nothing to run any program.
PROGRAMS: tuple[str, ...] = (
    *(f"{__name__}.{package}.program" for package, _ in BUILT_IN.values()),
    f"{__name__}.user.program",
)


class _BuiltIn(Mapping[str, "type[Scenario]"]):
    """The built-in scenarios' classes by name, each imported when first asked for."""

    def __getitem__(self, name: str) -> type[Scenario]:
        package, cls = BUILT_IN[name]
        return getattr(importlib.import_module(f"{__name__}.{package}.scenario"), cls)

    def __iter__(self) -> Iterator[str]:
        return iter(BUILT_IN)

    def __len__(self) -> int:
        return len(BUILT_IN)


#: name -> scenario class, for every built-in scenario (a mapping: the classes load on demand).
SCENARIOS: Mapping[str, type[Scenario]] = _BuiltIn()


def get_scenario(name: str | Scenario) -> Scenario:
    """The scenario called ``name`` ('wip_limit' and 'WIP-LIMIT' are accepted too), or the user's
    scenario it names: ``path/to/file.py:NAME``, ``package.module:NAME`` or an installed entry
    point's name (`concord.race.scenarios.sources`)."""
    from concord.race.scenarios.scenario import Scenario

    if isinstance(name, Scenario):
        return name
    key = name.strip().lower().replace("_", "-")
    if key in SCENARIOS:
        return SCENARIOS[key]()
    from concord.race.scenarios.sources import load_scenario

    return load_scenario(name)


__getattr__, __dir__, _ = lazy_loader.attach(
    __name__,
    submod_attrs={"program": ["Fixture", "Program"], "scenario": ["InvariantVerdict", "Scenario"]},
)

__all__ = [
    "BUILT_IN",
    "PROGRAMS",
    "SCENARIOS",
    "Fixture",
    "InvariantVerdict",
    "Program",
    "Scenario",
    "get_scenario",
]
