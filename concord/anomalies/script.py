"""How an anomaly test is written down: sessions, steps in order, a setup and a checker.

A test is a short script in the style of Hermitage and isolationtester: each step names the
session (T1, T2, T3) that runs one SQL statement. Steps run strictly in the written order; a step
that waits on a lock is left waiting while the script goes on with the other sessions.

The checker is a pure function over the transcript of one run (what each read returned, which
statements failed). It says whether the anomaly was observed; it never looks at the isolation level.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from concord.anomalies.transcript import Transcript

#: Placeholder the runner replaces by the level under test, e.g. ``REPEATABLE READ``.
ISOLATION = "{isolation}"
BEGIN = f"BEGIN ISOLATION LEVEL {ISOLATION}"

#: The table most tests start from (Hermitage's): two rows, x = row 1 and y = row 2.
TWO_ROWS = (
    "CREATE TABLE test (id int PRIMARY KEY, value int NOT NULL)",
    "INSERT INTO test (id, value) VALUES (1, 10), (2, 20)",
)


@dataclass(frozen=True)
class Step:
    """One statement of one session.

    ``label`` names the step for the checker. ``params`` computes the statement's parameters from
    what earlier steps returned (a read-modify-write writes what it read plus one); without it the
    SQL is sent as written, so ``%`` needs no escaping.
    """

    session: str
    sql: str
    label: str | None = None
    params: Callable[[Transcript], tuple[Any, ...]] | None = None


class Inconclusive(Exception):
    """The transcript lacks a read the checker cannot do without (the cell becomes an error)."""


@dataclass(frozen=True)
class Finding:
    """A checker's conclusion: was the anomaly observed, and what in the transcript shows it."""

    observed: bool
    detail: str


Checker = Callable[["Transcript"], Finding]


@dataclass(frozen=True)
class AnomalyTest:
    """One form (variant) of one anomaly, with its own table and its own checker."""

    anomaly: str
    variant: str
    title: str
    summary: str
    setup: tuple[str, ...]
    steps: tuple[Step, ...]
    check: Checker

    @property
    def key(self) -> str:
        """``anomaly/variant``, the name ``--only`` and ``--explain`` accept."""
        return f"{self.anomaly}/{self.variant}"

    @property
    def sessions(self) -> list[str]:
        """The sessions of the script in order of first appearance."""
        return list(dict.fromkeys(step.session for step in self.steps))


def begin(session: str) -> Step:
    """Start a transaction at the level under test."""
    return Step(session, BEGIN)


def commit(session: str) -> Step:
    return Step(session, "COMMIT")


def rollback(session: str) -> Step:
    return Step(session, "ROLLBACK")


def sql(session: str, statement: str, label: str | None = None) -> Step:
    """A statement sent exactly as written."""
    return Step(session, statement, label)


Params = Callable[["Transcript"], tuple[Any, ...]]


def computed(session: str, statement: str, label: str, params: Params) -> Step:
    """A statement whose parameters come from earlier reads (``%s`` placeholders)."""
    return Step(session, statement, label, params)
