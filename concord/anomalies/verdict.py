"""From a transcript to a verdict: ``prevented``, ``possible`` or ``error``.

The checker says whether the anomaly showed in what the reads returned. When it did not, the
transcript says how the server kept it out: a statement blocked until another session finished,
a transaction failed with 40001 or 40P01, or simply every read stayed consistent. Any other failed
statement means the script itself went wrong, and the cell is an error rather than a guess.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from concord.anomalies.levels import Level
from concord.anomalies.runner import CellRun
from concord.anomalies.script import Inconclusive
from concord.anomalies.transcript import StepRecord, Transcript

#: Failures that are the server enforcing isolation, not a broken script.
ISOLATION_SQLSTATES = {"40001": "serialization failure", "40P01": "deadlock detected"}

BLOCKING = "blocking"
CONSISTENT = "consistent reads"


class Verdict(StrEnum):
    """``possible``: the reads showed the anomaly; ``prevented``: they did not; ``error``: no verdict."""

    PREVENTED = "prevented"
    POSSIBLE = "possible"
    ERROR = "error"


@dataclass
class Cell:
    """One anomaly test at one level: the verdict, the evidence behind it, and the transcript."""

    anomaly: str
    variant: str
    title: str
    isolation: Level
    verdict: Verdict
    evidence: str
    observation: str = ""
    prevented_by: list[str] = field(default_factory=list)
    transcript: Transcript = field(default_factory=Transcript)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "anomaly": self.anomaly,
            "variant": self.variant,
            "title": self.title,
            "isolation": self.isolation.value,
            "verdict": self.verdict.value,
            "evidence": self.evidence,
            "observation": self.observation,
            "prevented_by": self.prevented_by,
            "seconds": round(self.seconds, 4),
            "transcript": self.transcript.as_list(),
        }


def decide(run: CellRun) -> Cell:
    """The verdict of one run, computed only from its transcript."""
    test = run.test
    cell = Cell(
        test.anomaly,
        test.variant,
        test.title,
        run.level,
        Verdict.ERROR,
        "",
        transcript=run.transcript,
        seconds=run.seconds,
    )
    if run.error is not None:
        cell.evidence = run.error
        return cell
    unexpected = [r for r in run.transcript.failures() if r.sqlstate not in ISOLATION_SQLSTATES]
    if unexpected:
        cell.evidence = "unexpected failure: " + _failure(unexpected[0])
        return cell
    try:
        finding = test.check(run.transcript)
    except Inconclusive as exc:
        cell.evidence = f"inconclusive: {exc}"
        return cell
    cell.observation = finding.detail
    if finding.observed:
        cell.verdict, cell.evidence = Verdict.POSSIBLE, finding.detail
        return cell
    cell.verdict = Verdict.PREVENTED
    cell.prevented_by = mechanisms(run.transcript)
    how = [_blocking(r, run.transcript) for r in run.transcript.blocked()]
    how += [_failure(r) for r in run.transcript.failures()]
    cell.evidence = "; ".join([finding.detail, *how])
    return cell


def mechanisms(transcript: Transcript) -> list[str]:
    """How the server kept the anomaly out: ``blocking``, SQLSTATEs, or ``consistent reads``."""
    found = [BLOCKING] if transcript.blocked() else []
    found += sorted({r.sqlstate for r in transcript.failures() if r.sqlstate in ISOLATION_SQLSTATES})
    return found or [CONSISTENT]


def _failure(record: StepRecord) -> str:
    where = f"step {record.index} ({record.session}: {record.sql})"
    return f"{where} failed with {record.sqlstate}: {record.error}"


def _blocking(record: StepRecord, transcript: Transcript) -> str:
    holders = " and ".join(record.blocked_by)
    text = f"step {record.index} ({record.session}) blocked on {holders}"
    if record.released_by is not None:
        release = transcript.records[record.released_by - 1]
        text += f" until step {release.index} ({release.session}: {release.sql})"
    return text
