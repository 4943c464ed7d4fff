"""What a spec run printed (isolationtester's output, byte for byte) and what happened, for --json."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class StepRecord:
    """One launch of a step in a permutation, as the server answered it."""

    name: str
    session: str
    sql: str
    waited: bool = False
    blocked_by: list[str] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, str | None]] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    completed: bool = False

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class PermutationRecord:
    steps: list[str]
    launched: list[StepRecord] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"steps": self.steps, "launched": [record.as_dict() for record in self.launched]}


class Transcript:
    """The text isolationtester would print on stdout and stderr (one stream, as pg_isolation_regress
    captures them with ``2>&1``), and the structured records behind it."""

    def __init__(self, echo: Callable[[str], None] | None = None) -> None:
        self._parts: list[str] = []
        self._echo = echo
        self.permutations: list[PermutationRecord] = []
        self.aborted: str | None = None

    def write(self, text: str) -> None:
        self._parts.append(text)
        if self._echo is not None:
            self._echo(text)

    def abort(self, text: str) -> None:
        """isolationtester printed ``text`` and gave up on the whole spec."""
        self.write(text)
        self.aborted = text.strip()

    @property
    def text(self) -> str:
        return "".join(self._parts)
