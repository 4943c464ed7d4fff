"""What racing workers run: each scenario's operation, compiled, free of SQLAlchemy.

A scenario (`concord.race.scenarios`) lives on the coordinator: it creates rows, compiles its
statements for one locking strategy, and checks the invariant. What it hands each worker is a
`Program` from here: the compiled statements and a generator of steps. These modules import only
the standard library and small concord modules, so a worker process (`--executor processes`)
never loads SQLAlchemy, the ORM models or the command line; importing this package loads every
program, which is what the process executor's fork server preloads.
"""

from concord.race.programs import assign, claim_queue, counter, list_append, transfer, user, wip_limit
from concord.race.programs.base import CompiledStrategy, Fixture, Program

__all__ = [
    "CompiledStrategy",
    "Fixture",
    "Program",
    "assign",
    "claim_queue",
    "counter",
    "list_append",
    "transfer",
    "user",
    "wip_limit",
]
