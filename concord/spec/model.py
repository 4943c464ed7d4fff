"""The spec language's syntax tree: what isolationtester's grammar (specparse.y) builds.

Line numbers are kept for error messages but take no part in equality, so a spec printed and
parsed back compares equal to the one it was printed from.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from concord.errors import InvalidInput


class SpecError(InvalidInput):
    """A spec isolationtester would refuse: ``FILE:LINE: message`` (``FILE: message`` without a line)."""

    def __init__(self, path: str, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}" if line > 0 else f"{path}: {message}")
        self.path, self.line, self.reason = path, line, message


@dataclass(frozen=True)
class Step:
    """``step NAME { sql }``: the SQL is kept as written, leading and trailing blanks trimmed."""

    name: str
    sql: str
    line: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Session:
    """``session NAME``: an optional setup, one or more steps, an optional teardown."""

    name: str
    steps: tuple[Step, ...]
    setup: str | None = None
    teardown: str | None = None
    line: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Blocker:
    """A marker in a permutation step's parentheses.

    ``(*)``: the step is reported waiting at launch. ``(other)``: its completion is reported only
    once ``other`` is no longer running. ``(other notices N)``: only after N more notices from
    ``other``'s session.
    """

    step: str | None  # None for (*)
    notices: int | None = None

    @property
    def once(self) -> bool:
        return self.step is None


@dataclass(frozen=True)
class PermutationStep:
    """One entry of a ``permutation`` line: a step name and its blocker markers."""

    name: str
    blockers: tuple[Blocker, ...] = ()


@dataclass(frozen=True)
class Permutation:
    steps: tuple[PermutationStep, ...]
    line: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Spec:
    """A whole spec file: setups, an optional teardown, sessions and permutations."""

    sessions: tuple[Session, ...]
    setups: tuple[str, ...] = ()
    teardown: str | None = None
    permutations: tuple[Permutation, ...] = ()

    def steps(self) -> dict[str, tuple[int, Step]]:
        """Every step by name, with the index of its session."""
        return {
            step.name: (index, step) for index, session in enumerate(self.sessions) for step in session.steps
        }
