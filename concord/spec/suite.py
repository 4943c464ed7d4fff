"""Running spec files: each parsed first, then run in a database of its own, then compared."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from concord.db.urls import libpq_dsn, resolve_url
from concord.errors import InvalidInput
from concord.spec.compare import Comparison, compare, expected_files
from concord.spec.database import connect_admin, fresh_database, missing_requirements
from concord.spec.model import Spec, SpecError
from concord.spec.parser import parse_file
from concord.spec.runner import run_spec
from concord.spec.transcript import Transcript


def default_step_timeout() -> float:
    """isolationtester's max_step_wait: twice PG_TEST_TIMEOUT_DEFAULT (180 s unless set), so 360 s."""
    raw = os.environ.get("PG_TEST_TIMEOUT_DEFAULT", "180")
    try:
        return 2 * float(raw)
    except ValueError:
        return 360.0


@dataclass
class SpecOutcome:
    """One spec file's run: its output, or why it was skipped, and how it compared."""

    path: Path
    skipped: str | None = None
    transcript: Transcript = field(default_factory=Transcript)
    comparison: Comparison | None = None

    @property
    def ok(self) -> bool:
        if self.skipped:
            return True
        if self.comparison is not None:
            return self.comparison.identical
        return self.transcript.aborted is None

    def as_dict(self) -> dict[str, Any]:
        document: dict[str, Any] = {"file": str(self.path), "skipped": self.skipped}
        if not self.skipped:
            document |= {
                "output": self.transcript.text,
                "aborted": self.transcript.aborted,
                "permutations": [p.as_dict() for p in self.transcript.permutations],
            }
        if self.comparison is not None:
            document |= {
                "expected": str(self.comparison.expected),
                "identical": self.comparison.identical,
                "diff": self.comparison.diff,
            }
        return document


@dataclass(frozen=True)
class PlannedSpec:
    path: Path
    spec: Spec
    expected: list[Path] | None


def plan(paths: Sequence[Path], expected: Path | None) -> list[PlannedSpec]:
    """Parse every spec and find its expected files before anything runs (a bad one stops all)."""
    if expected is not None and not expected.exists():
        raise InvalidInput(f"{expected}: no such expected file or directory")
    if expected is not None and expected.is_file() and len(paths) > 1:
        raise InvalidInput("--expected names one file but several specs are given; give a directory")
    planned = []
    for path in paths:
        spec = parse_file(path)
        candidates = None if expected is None else expected_files(path, expected)
        if candidates == []:
            raise SpecError(str(path), 0, f"no expected output {path.stem}.out in {expected}")
        planned.append(PlannedSpec(path, spec, candidates))
    return planned


def run_specs(
    planned: Sequence[PlannedSpec],
    *,
    database_url: str | None = None,
    step_timeout: float | None = None,
    echo: Callable[[str], None] | None = None,
    on_start: Callable[[PlannedSpec], None] | None = None,
) -> list[SpecOutcome]:
    """Run each planned spec in a fresh database on the server; ``echo`` sees output as it is made."""
    timeout = default_step_timeout() if step_timeout is None else step_timeout
    if not timeout > 0:
        raise InvalidInput(f"the step timeout must be positive, not {timeout}")
    dsn = libpq_dsn(resolve_url(database_url))
    outcomes = []
    with connect_admin(dsn) as admin:
        for item in planned:
            if on_start is not None:
                on_start(item)
            outcome = SpecOutcome(item.path, transcript=Transcript(echo))
            outcome.skipped = missing_requirements(item.spec, admin)
            if not outcome.skipped:
                with fresh_database(admin, dsn) as conninfo:
                    run_spec(
                        item.spec,
                        conninfo,
                        name=item.path.stem,
                        step_timeout=timeout,
                        transcript=outcome.transcript,
                    )
                if item.expected:
                    outcome.comparison = compare(outcome.transcript.text, item.expected)
            outcomes.append(outcome)
    return outcomes
