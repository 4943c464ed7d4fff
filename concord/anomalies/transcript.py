"""What one run of a script did, step by step: the evidence behind a verdict."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class Outcome(StrEnum):
    """How a step ended."""

    OK = "ok"
    FAILED = "failed"  # the server refused it; ``sqlstate`` says why
    SKIPPED = "skipped"  # its transaction had already failed, so it was not sent
    UNFINISHED = "unfinished"  # still running when the run was stopped (timeout or fault)


@dataclass
class StepRecord:
    """One step as it ran. ``blocked`` is true when the server showed it waiting on a lock."""

    index: int
    session: str
    sql: str
    label: str | None = None
    params: list[Any] | None = None
    outcome: Outcome = Outcome.UNFINISHED
    command: str | None = None
    columns: list[str] | None = None
    rows: list[list[Any]] | None = None
    sqlstate: str | None = None
    error: str | None = None
    blocked: bool = False
    blocked_by: list[str] = field(default_factory=list)
    released_by: int | None = None
    note: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if value not in (None, [], False)}


@dataclass
class Transcript:
    """The records of one run in script order, with the questions checkers ask of them."""

    records: list[StepRecord] = field(default_factory=list)

    def step(self, label: str) -> StepRecord | None:
        """The step carrying ``label``, if the script has one."""
        return next((record for record in self.records if record.label == label), None)

    def rows(self, label: str) -> list[list[Any]] | None:
        """The rows the labelled read returned; None when it failed, was skipped or did not finish."""
        record = self.step(label)
        if record is None or record.outcome is not Outcome.OK:
            return None
        return record.rows or []

    def values(self, label: str) -> dict[int, int] | None:
        """The labelled read's ``(id, value)`` rows as a mapping id -> value."""
        rows = self.rows(label)
        return None if rows is None else {row[0]: row[1] for row in rows}

    def value(self, label: str) -> Any:
        """The first column of the labelled read's only row (None when absent)."""
        rows = self.rows(label)
        return rows[0][0] if rows else None

    def succeeded(self, label: str) -> bool:
        record = self.step(label)
        return record is not None and record.outcome is Outcome.OK

    def committed(self, session: str) -> bool:
        """True when the session's last COMMIT was accepted (a COMMIT of a failed transaction rolls back)."""
        commits = [r for r in self.records if r.session == session and r.sql.upper() == "COMMIT"]
        return bool(commits) and commits[-1].outcome is Outcome.OK and commits[-1].command == "COMMIT"

    def failures(self) -> list[StepRecord]:
        return [record for record in self.records if record.outcome is Outcome.FAILED]

    def blocked(self) -> list[StepRecord]:
        return [record for record in self.records if record.blocked]

    def as_list(self) -> list[dict[str, Any]]:
        return [record.as_dict() for record in self.records]
