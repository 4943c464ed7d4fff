"""The result document of a race: one `RaceResult` with a `CellResult` per cell.

`RaceResult.document()` is what ``--json`` prints and ``results/<stamp>-<scenario>.json``
holds. Key names are a contract (see issue 3): top level ``concord_version``, ``started_at``,
``database``, ``parameters``, ``interrupted``, ``cells``; per cell ``scenario``, ``strategy``,
``isolation``, ``executor``, ``workers``, ``duration_s``, ``attempts``, ``commits``,
``retries``, ``failures``, ``conflicts``, ``violations``, ``invariant``, ``throughput``,
``latency_ms``; ``error`` only on a cell that failed (a user scenario's code raised, or its setup
refused the cell). Extra keys are additions, never renamings: ``latency_ms`` gained ``p90``,
``p999`` (p99.9) and ``gave_up``, and a cell gained ``latency_hdr``, its encoded latency histogram
(see `concord.race.latency`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from concord.race.latency import Latencies

if TYPE_CHECKING:
    from concord.race.job import WorkerReport

CONFLICT_KEYS = ("serialization_failure", "deadlock", "lock_not_available", "stale_version", "row_missed")


@dataclass
class CellResult:
    scenario: str
    strategy: str
    isolation: str
    executor: str
    workers: int
    duration_s: float
    attempts: int
    commits: int
    retries: int
    failures: int
    conflicts: dict[str, int]
    violations: int | None
    invariant: str
    throughput: float
    latency_ms: dict[str, float | int | None]
    verdict: str
    finding: str
    operations: dict[str, int]
    details: dict[str, Any] = field(default_factory=dict)
    worker_errors: list[str] = field(default_factory=list)
    dead_workers: list[dict[str, Any]] = field(default_factory=list)
    interrupted: bool = False
    trace: dict[str, Any] = field(default_factory=dict)
    #: The cell's latency histogram, encoded, with its layout: cells merge exactly from it.
    latency_hdr: dict[str, Any] = field(default_factory=dict)
    #: Why the cell failed, when it did: a user scenario's code raised (what, and where), or its
    #: setup refused the cell. Absent from the document when None.
    error: str | None = None
    #: Where the workers' time went, and the server's own counters (`concord.race.waits`);
    #: None when sampling was off.
    waits: dict[str, Any] | None = None
    server: dict[str, Any] | None = None
    #: The cell's attempt traces (worker, seq, attempt, start, end, outcome, sqlstate), each
    #: worker's first ``trace.cap_per_worker``: written to the run's JSON Lines file, not in the
    #: document (its ``trace`` entry counts them).
    traces: list[tuple] = field(default_factory=list, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The cell as the results document holds it (without its traces)."""
        out = dict(self.__dict__)
        del out["traces"]
        if out["error"] is None:
            del out["error"]
        return out


@dataclass
class RaceResult:
    concord_version: str
    started_at: str
    database: dict[str, Any]
    parameters: dict[str, Any]
    interrupted: bool = False
    cells: list[CellResult] = field(default_factory=list)
    error: str | None = None
    #: Where `concord.race.write_results` wrote the run (by kind), once it did; it returns them, and
    #: the command line puts them here with `dataclasses.replace` (the writer changes nothing).
    files: dict[str, str] = field(default_factory=dict)

    def document(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "concord_version": self.concord_version,
            "started_at": self.started_at,
            "database": self.database,
            "parameters": self.parameters,
            "interrupted": self.interrupted,
            "cells": [cell.to_dict() for cell in self.cells],
        }
        if "traces" in self.files:  # once written, each cell says where its attempts are
            for index, cell in enumerate(doc["cells"]):
                cell["trace"] = {**cell["trace"], "file": self.files["traces"], "cell": index}
        if self.error:
            doc["error"] = self.error
        if self.files:
            doc["files"] = self.files
        return doc


@dataclass(frozen=True)
class CellTotals:
    """What a cell's workers did, summed once from their `WorkerReport`s (a direct race's or a
    race through HTTP's: both are filled by the one race loop, `concord.race.loop`): the counters
    of the cell's result and what the scenario's check reads (`Scenario.check` gets it)."""

    attempts: int = 0
    commits: int = 0
    retries: int = 0
    failures: int = 0
    conflicts: dict[str, int] = field(default_factory=dict)  # every kind of CONFLICT_KEYS, then others
    latency: Latencies = field(default_factory=Latencies)  # every worker's, merged
    traces: list[tuple] = field(default_factory=list)
    traces_dropped: int = 0
    done: int = 0  # operations that did what they set out to do
    declined: int = 0
    payloads: list[tuple[int, Any]] = field(default_factory=list)  # (worker, payload) of each DONE
    exhausted_workers: int = 0  # workers that stopped because nothing was left
    dead_workers: frozenset[int] = frozenset()  # workers that died without reporting
    worker_errors: tuple[str, ...] = ()  # what ended workers early (a bug, a statement refused)

    @classmethod
    def of(cls, reports: Sequence[WorkerReport], *, dead_workers: frozenset[int] = frozenset()) -> CellTotals:
        """Sum ``reports``; ``dead_workers`` are those that died without one."""
        found: Counter[str] = Counter()
        for report in reports:
            found.update(report.conflicts)
        kinds = [*CONFLICT_KEYS, *sorted(k for k in found if k not in CONFLICT_KEYS)]
        return cls(
            attempts=sum(r.attempts for r in reports),
            commits=sum(r.commits for r in reports),
            retries=sum(r.retries for r in reports),
            failures=sum(r.failures for r in reports),
            conflicts={kind: found.get(kind, 0) for kind in kinds},
            latency=Latencies.merged([r.latency for r in reports]),
            traces=[line for r in reports for line in r.traces],
            traces_dropped=sum(r.traces_dropped for r in reports),
            done=sum(r.done for r in reports),
            declined=sum(r.declined for r in reports),
            payloads=[(r.worker, p) for r in reports for p in r.payloads],
            exhausted_workers=sum(1 for r in reports if r.exhausted),
            dead_workers=dead_workers,
            worker_errors=tuple(r.error for r in reports if r.error),
        )

    def throughput(self, elapsed_s: float) -> float:
        return round(self.commits / elapsed_s, 1) if elapsed_s > 0 else 0.0

    def trace(self, cap_per_worker: int) -> dict[str, int]:
        """The cell's ``trace`` entry: lines kept, lines dropped past the cap, the cap."""
        return {"lines": len(self.traces), "dropped": self.traces_dropped, "cap_per_worker": cap_per_worker}


_PHRASES = {
    "serialization_failure": ("serialization failure", "serialization failures"),
    "deadlock": ("deadlock", "deadlocks"),
    "lock_not_available": ("lock-not-available error", "lock-not-available errors"),
    "stale_version": ("stale version", "stale versions"),
    "row_missed": ("claim that found every row held", "claims that found every row held"),
}


def conflict_phrase(kind: str, count: int) -> str:
    """'deadlock' / 'deadlocks', 'stale version' / 'stale versions', ..."""
    one, many = _PHRASES.get(kind, (kind.replace("_", " "), kind.replace("_", " ") + "s"))
    return one if count == 1 else many


def verdict(
    violations: int | None, finding: str, conflicts: dict[str, int], *, retries: int, failures: int
) -> str:
    """One plain-language sentence: the anomaly found, or 'no anomaly' and what it cost.

    The cost names the conflicts, then what became of them in the numbers the table shows: how
    many were retried and how many operations gave up after max tries (each failed attempt is a
    conflict, so the conflicts are the retries plus the give-ups).
    """
    if violations is None:
        return f"invariant not checked: {finding}"
    if violations:
        return finding
    seen = ", ".join(
        f"{count:,} {conflict_phrase(kind, count)}" for kind, count in conflicts.items() if count
    )
    handled = [f"{retries:,} retried"] if retries else []
    if failures:
        handled.append(f"{failures:,} gave up after max tries")
    if not handled:
        return f"no anomaly: {finding}"
    return f"no anomaly; {seen}: {', '.join(handled)}" if seen else f"no anomaly; {', '.join(handled)}"
