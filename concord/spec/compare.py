"""Comparing a spec's output with expected files, as pg_isolation_regress does.

pg_regress accepts ``NAME.out`` or any alternative ``NAME_1.out`` ... ``NAME_9.out``; when none
matches it shows the difference from the alternative closest to the output.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Comparison:
    expected: Path
    identical: bool
    diff: str


def expected_files(spec_path: Path, expected: Path) -> list[Path]:
    """The expected outputs for ``spec_path``: ``expected`` if a file, else its NAME.out and NAME_N.out."""
    if not expected.is_dir():
        return [expected] if expected.is_file() else []
    names = [f"{spec_path.stem}.out", *(f"{spec_path.stem}_{n}.out" for n in range(1, 10))]
    return [path for name in names if (path := expected / name).is_file()]


def compare(actual: str, candidates: list[Path]) -> Comparison:
    """Identical to one of the candidates, or the unified diff from the closest one."""
    best: Comparison | None = None
    for path in candidates:
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
        if text == actual:
            return Comparison(path, True, "")
        lines = difflib.unified_diff(
            text.splitlines(keepends=True), actual.splitlines(keepends=True), str(path), "actual output"
        )
        diff = "".join(
            line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines
        )
        if best is None or diff.count("\n") < best.diff.count("\n"):
            best = Comparison(path, False, diff)
    assert best is not None, "compare needs at least one expected file"
    return best
