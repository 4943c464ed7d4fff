"""Result documents on disk: find one by path or name, read it, and list what a directory holds.

A result is a JSON document concord wrote into ``results/``, of one of four kinds:

- ``race`` and ``sweep`` (`concord race`, `concord sweep`): ``parameters`` and a list of
  ``cells``, each naming its strategy, isolation level and workers and carrying ``throughput``
  and ``latency_ms``;
- ``anomalies`` (`concord anomalies`): a list of ``cells``, each an anomaly, variant, isolation
  level and verdict;
- ``calibrate`` (`concord calibrate`): ``rows`` of pgbench's and concord's throughput per worker
  count and executor.

Anything else is refused with `ResultUnreadable`, one sentence saying what is wrong, never a
traceback. Writing is `concord.reports.files` (its checks are named here too, as before).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from concord.errors import ConcordError
from concord.reports.files import (  # noqa: F401 - where callers found them before the writer had its module
    OutputUnwritable,
    ResultsNotWritten,
    check_writable,
    kept_on_failure,
)

RESULTS_DIR = "results"
CELL_KEYS = ("strategy", "isolation", "workers", "throughput", "latency_ms")
ANOMALY_KEYS = ("anomaly", "variant", "isolation", "verdict")
CALIBRATION_KEYS = ("workers", "executor", "pgbench_tps", "concord_tps")
RACES = ("race", "sweep")
KINDS = (*RACES, "anomalies", "calibrate")


class ResultUnreadable(ConcordError):
    """The file is missing, is not JSON, or is not a concord result document."""


@dataclass(frozen=True)
class ResultFile:
    """One line of `concord results list`."""

    path: Path
    kind: str
    scenario: str
    started_at: str
    cells: int
    interrupted: bool

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "path": str(self.path)}


def results_dir(out: str | Path = ".") -> Path:
    return Path(out) / RESULTS_DIR


def find_result(name: str | Path, out: str | Path = ".") -> Path:
    """A path as given, else a result in ``out/results`` (or a folder below it) by file name, by
    name without ``.json``, or by a prefix only one result has."""
    path = Path(name)
    if path.is_file():
        return path
    folder = results_dir(out)
    candidates = sorted(folder.rglob("*.json")) if folder.is_dir() else []
    for test in (
        lambda p: p.relative_to(folder) == path or p.relative_to(folder).with_suffix("") == path,
        lambda p: p.name == path.name or p.stem == path.name,
        lambda p: p.name.startswith(str(name)),
    ):
        found = [p for p in candidates if test(p)]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            names = ", ".join(str(p.relative_to(folder)) for p in found[:4])
            raise ResultUnreadable(f"{name} names more than one result ({names}); give more of the name")
    raise ResultUnreadable(
        f"no result {name}: not a file, nor a name in {folder} (`concord results list` shows them)"
    )


def load_result(name: str | Path, out: str | Path = ".", kinds: tuple[str, ...] = RACES) -> dict[str, Any]:
    """The result document ``name`` refers to, checked to be one of ``kinds``."""
    path = find_result(name, out)
    try:
        document = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError) as exc:
        raise ResultUnreadable(f"cannot read {path}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise ResultUnreadable(f"{path} is not JSON (line {exc.lineno}: {exc.msg})") from None
    problem = document_problem(document)
    if problem:
        raise ResultUnreadable(f"{path} is not a concord result: {problem}")
    kind = document_kind(document)
    if kind not in kinds:
        wanted = with_article(" or ".join(kinds))
        raise ResultUnreadable(f"{path} is {with_article(kind)} result; this takes {wanted} result")
    return document


def document_kind(document: dict[str, Any]) -> str:
    """race, sweep, anomalies or calibrate (the last two written before documents named their kind)."""
    if isinstance(document.get("kind"), str):
        return document["kind"]
    if isinstance(document.get("rows"), list):
        return "calibrate"
    cells = document.get("cells")
    if isinstance(cells, list) and cells and isinstance(cells[0], dict) and "anomaly" in cells[0]:
        return "anomalies"
    return "race"


def _utc(stamp: str) -> str:
    """An ISO time as the other results write it (``2026-12-04T22:18:34Z``), so they sort together."""
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return stamp
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def with_article(word: str) -> str:
    return f"an {word}" if word[0] in "aeiou" else f"a {word}"


def document_problem(document: Any) -> str | None:
    """What makes ``document`` not a result document, or None."""
    if not isinstance(document, dict):
        return "the JSON is not an object"
    kind = document_kind(document)
    if kind == "anomalies":
        return _entries_problem(document["cells"], "cell", ANOMALY_KEYS)
    if kind == "calibrate":
        return _entries_problem(document["rows"], "row", CALIBRATION_KEYS)
    if not isinstance(document.get("parameters"), dict):
        return "it has no 'parameters'"
    cells = document.get("cells")
    if not isinstance(cells, list):
        return "it has no list of 'cells'"
    return _entries_problem(cells, "cell", CELL_KEYS)


def _entries_problem(entries: list[Any], name: str, keys: tuple[str, ...]) -> str | None:
    for n, entry in enumerate(entries, 1):
        missing = [k for k in keys if not isinstance(entry, dict) or k not in entry]
        if missing:
            return f"{name} {n} lacks {', '.join(missing)}"
    return None


def list_results(out: str | Path = ".") -> list[ResultFile]:
    """Every result document under ``out/results``, oldest first; files that are not results are skipped."""
    folder = results_dir(out)
    found = []
    for path in sorted(folder.rglob("*.json")) if folder.is_dir() else []:
        try:
            document = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if document_problem(document) is None:
            found.append(describe(path, document))
    return sorted(found, key=lambda r: (r.started_at, str(r.path)))


def describe(path: Path, document: dict[str, Any]) -> ResultFile:
    kind = document_kind(document)
    if kind == "calibrate":  # pgbench's counter transaction, the pessimistic strategy's
        scenario, cells = "counter", len(document["rows"])
    elif kind == "anomalies":
        scenario, cells = "-", len(document["cells"])
    else:
        scenario, cells = str(document["parameters"].get("scenario", "?")), len(document["cells"])
    return ResultFile(
        path=path,
        kind=kind,
        scenario=scenario,
        started_at=_utc(str(document.get("started_at", "?"))),
        cells=cells,
        interrupted=bool(document.get("interrupted")),
    )
