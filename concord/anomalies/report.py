"""What a run leaves behind: the JSON document, the file under ``results/``, and explanations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from concord.anomalies.levels import Level
from concord.anomalies.suite import SuiteResult
from concord.anomalies.verdict import Cell, Verdict

# Why each level behaves as it does: the second line of an explanation. Facts about PostgreSQL,
# not answers: which anomaly a level stops is left to the transcript.
LEVEL_BEHAVIOUR = {
    Level.READ_UNCOMMITTED: (
        "PostgreSQL runs read uncommitted as read committed: each statement reads a fresh snapshot of "
        "committed rows, and a write waits for a row's lock, then applies to its newest committed version."
    ),
    Level.READ_COMMITTED: (
        "Read committed takes a new snapshot for every statement, so a transaction sees commits made "
        "between its statements; a write waits for a row's lock, then applies to its newest committed "
        "version."
    ),
    Level.REPEATABLE_READ: (
        "Repeatable read reads one snapshot for the whole transaction and fails with 40001 when it would "
        "change a row changed since; what was only read is not tracked, so reads and writes of different "
        "rows can cross."
    ),
    Level.SERIALIZABLE: (
        "Serializable is repeatable read plus SSI: the server tracks who read what others wrote and fails "
        "a transaction with 40001 when those dependencies could form a cycle."
    ),
}


def explain(cell: Cell) -> tuple[str, str]:
    """Two plain lines: what this run showed, and why the level behaves that way."""
    if cell.verdict is Verdict.ERROR:
        return (
            f"No verdict: {cell.evidence}.",
            "Every session was rolled back and closed; rerun with a larger --step-timeout if the "
            "server was only slow.",
        )
    if cell.verdict is Verdict.POSSIBLE:
        first = f"{cell.title} happened at {cell.isolation}: {cell.observation}."
    else:
        # The tags say what the server did in this run (blocked a step, raised 40001), not which of
        # those mattered: the observation and the transcript above say that.
        tags = ", ".join(cell.prevented_by)
        first = f"{cell.title} was prevented at {cell.isolation} ({tags}): {cell.observation}."
    return first, LEVEL_BEHAVIOUR[cell.isolation]


def suite_document(result: SuiteResult, *, version: str) -> dict[str, Any]:
    """The whole run as one JSON-ready document: when, where, and every cell with its evidence."""
    return {
        "concord_version": version,
        "started_at": result.started_at.isoformat(),
        "seconds": round(result.seconds, 3),
        "step_timeout": result.step_timeout,
        "database": result.database,
        "cells": [cell.as_dict() for cell in result.cells],
    }


def write_results(document: dict[str, Any], out_dir: Path) -> Path:
    """Save the document as ``<out_dir>/<UTC stamp>-anomalies.json`` (``-2``, ``-3``... when a run
    of the same second has that name) and return its path. The document is not changed."""
    from concord.reports.files import json_text, write_run

    files = write_run(
        "anomalies",
        document["started_at"],
        {"json": (out_dir, ".json")},
        lambda files: {"json": json_text(document)},
        lambda: document,
    )
    return Path(files["json"])
