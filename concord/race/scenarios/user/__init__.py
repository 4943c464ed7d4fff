"""A user's scenario: any object with the names below, raced through the engine's own loop.

The contract (stable public API; README "Race your own code" has a walk-through):

- ``name`` (str: letters, digits, ``-``, ``_``, ``.``; it names the result files) and
  ``invariant`` (str, one sentence); optionally ``summary`` (str), ``default_strategies``
  (strategy names) and ``refused`` (strategy name -> why it makes no sense);
- ``setup(conn)``: create and fill what the race needs on a psycopg connection to the target
  database; concord commits it. It runs once per cell and must leave a known starting state
  (truncate or recreate). An exception refuses the cell with its message;
- ``transaction(tx)``: one attempt of the user's work (`concord.race.scenarios.user.tx.Tx`), run by
  every worker again and again inside a transaction at the cell's isolation level;
- ``check(conn)``: the invariant's violations as a list of sentences (empty when it holds), or
  ``(count, sentences)`` when there are more violations than sentences. It also runs right after
  ``setup``: a starting state that already breaks the invariant refuses the cell.

concord never adds its own tables to the user's database (`needs_schema` is False).

`scenario.UserScenario` runs the contract on the coordinator; `program.UserProgram` (with
`tx.Tx`) runs ``transaction(tx)`` in each worker and imports no SQLAlchemy. Importing this
package loads neither: `UserScenario` and `target_of` load the coordinator's side when first read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import lazy_loader

if TYPE_CHECKING:
    from concord.race.scenarios.user.scenario import UserScenario, target_of

__getattr__, __dir__, _ = lazy_loader.attach(
    __name__, submod_attrs={"scenario": ["UserScenario", "target_of"]}
)

__all__ = ["UserScenario", "target_of"]
