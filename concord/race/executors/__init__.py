"""How workers run: threads, processes or asyncio tasks, behind one `Executor` interface."""

from __future__ import annotations

from concord.errors import InvalidInput
from concord.race.executors.aio import AsyncioExecutor
from concord.race.executors.base import Death, Executor, RunningCell
from concord.race.executors.processes import ProcessExecutor
from concord.race.executors.threads import ThreadExecutor

EXECUTORS: dict[str, type] = {
    "threads": ThreadExecutor,
    "processes": ProcessExecutor,
    "asyncio": AsyncioExecutor,
}


def get_executor(name: str) -> Executor:
    key = name.strip().lower()
    if key not in EXECUTORS:
        raise InvalidInput(f"unknown executor {name!r}: choose one of {', '.join(EXECUTORS)}")
    return EXECUTORS[key]()


__all__ = ["EXECUTORS", "Death", "Executor", "RunningCell", "get_executor"]
