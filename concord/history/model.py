"""A history of transactions as Elle reads it: operations, micro-operations, transactions.

An Elle history is a list of operations ``{"index", "process", "type", "value", "time"}``: an
``invoke`` when a transaction is sent, then one completion for the same process: ``ok``
(committed), ``fail`` (known not to have committed) or ``info`` (fate unknown). A transaction's
value is a list of micro-operations: ``["append", k, v]`` and ``["r", k, [..]]`` for list-append,
``["w", k, v]`` and ``["r", k, v]`` for rw-register.

`Txn` is one completed transaction as the checker sees it: keys and values stay what the file
held (ints or strings), read lists become tuples so they can be hashed and compared cheaply.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from concord.errors import InvalidInput

OK, FAIL, INFO, INVOKE = "ok", "fail", "info", "invoke"
#: The models `concord history check` knows, each with the micro-operation names it accepts.
MODELS: dict[str, tuple[str, ...]] = {"list-append": ("append", "r"), "rw-register": ("w", "r")}

#: A micro-operation: (function, key, value); a list-append read's value is a tuple or None.
Mop = tuple[str, Any, Any]


class MalformedHistory(InvalidInput):
    """The history itself is wrong (not an anomaly of the database): bad JSON, missing fields,
    duplicate appended values, a completion without its invocation."""


@dataclass(slots=True, eq=False)
class Txn:
    """One transaction: its completion (``ok``, ``fail`` or ``info``) and micro-operations.

    ``index`` is the completion's index in the history (the name Elle uses for an operation);
    ``op`` is the completion as it was read, to show it back to the user unchanged.
    """

    id: int  # position among the history's transactions, 0-based
    index: int
    process: Any
    type: str
    mops: tuple[Mop, ...]
    op: dict[str, Any]
    invoke_index: int | None = None

    @property
    def name(self) -> str:
        return f"T{self.index}"

    def __repr__(self) -> str:
        return f"Txn({self.name} {self.type} {list(self.mops)})"


def check_model(model: str) -> str:
    """``model`` when concord can check it; otherwise `MalformedHistory` naming the choices."""
    if model not in MODELS:
        raise MalformedHistory(f"unknown model {model!r}: choose one of {', '.join(MODELS)}")
    return model


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a history is read or checked.

    Both build millions of small containers, and each allocation burst triggers full collections
    that walk all of them again: reading a 100,000-transaction file took 6.7 s with the collector
    on and 1.2 s with it off (benchmarks/history_check.py). What they build holds no reference
    cycles, so reference counting frees it all the same.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
