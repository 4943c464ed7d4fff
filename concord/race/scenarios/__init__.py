"""The races concord runs, each with an invariant checked in the database afterwards."""

from __future__ import annotations

from concord.race.results import CellTotals
from concord.race.scenarios.assign import Assign
from concord.race.scenarios.base import Fixture, InvariantVerdict, Program, Scenario
from concord.race.scenarios.claim_queue import ClaimQueue
from concord.race.scenarios.counter import Counter
from concord.race.scenarios.list_append import ListAppend
from concord.race.scenarios.transfer import Transfer
from concord.race.scenarios.wip_limit import WipLimit

SCENARIOS: dict[str, type[Scenario]] = {
    cls.name: cls for cls in (Counter, Assign, WipLimit, ClaimQueue, Transfer, ListAppend)
}


def get_scenario(name: str | Scenario) -> Scenario:
    """The scenario called ``name`` ('wip_limit' and 'WIP-LIMIT' are accepted too), or the user's
    scenario it names: ``path/to/file.py:NAME``, ``package.module:NAME`` or an installed entry
    point's name (`concord.race.scenarios.sources`)."""
    if isinstance(name, Scenario):
        return name
    key = name.strip().lower().replace("_", "-")
    if key in SCENARIOS:
        return SCENARIOS[key]()
    from concord.race.scenarios.sources import load_scenario

    return load_scenario(name)


__all__ = ["SCENARIOS", "CellTotals", "Fixture", "InvariantVerdict", "Program", "Scenario", "get_scenario"]
