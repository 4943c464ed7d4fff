"""The README's tour, run literally and in order after the README's own first line.

The first line races 50 workers, whose fixture boards, lists and tasks use up the first ids: the
tour names what it made by name, so it works as written on the database that line left behind.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from cli_runner import on

README = Path(__file__).resolve().parent.parent / "README.md"


def _blocks() -> dict[str, list[str]]:
    """The first ``sh`` block under each heading, as command lines, in the README's order."""
    blocks: dict[str, list[str]] = {}
    heading = ""
    pattern = re.compile(r"^(#+ [^\n]*)$|^```sh\n(.*?)^```", re.MULTILINE | re.DOTALL)
    for match in pattern.finditer(README.read_text()):
        if match.group(1):
            heading = match.group(1).lstrip("# ").strip()
        elif heading not in blocks:
            lines = match.group(2).replace("\\\n", " ").splitlines()
            blocks[heading] = [line for line in lines if line.strip()]
    return blocks


def _concord_args(line: str) -> list[str]:
    """The arguments after ``concord`` in a command line (after its last ``&&``), comment dropped."""
    words = shlex.split(line.split("&&")[-1], comments=True)
    assert words[0].endswith("concord"), line
    return words[1:]


def test_the_tour_works_as_written_after_the_first_line(database_url):
    blocks = _blocks()
    first_line = _concord_args(next(iter(blocks.values()))[0])  # the README's own first line
    assert first_line[0] == "race"
    raced = on(database_url, *first_line)
    assert raced.exit_code == 0, raced.stderr
    tour = [*blocks["The board"], blocks["Query plans"][0]]
    assert any("seed" in line for line in tour[-1:]), "the query plans block starts with the seed"
    for line in tour:
        outcome = on(database_url, *_concord_args(line))
        assert outcome.exit_code == 0, f"{line!r} exited {outcome.exit_code}: {outcome.stderr}"
    shown = on(database_url, "board", "show", "Roadmap", "--json").json()
    assert [(lst["name"], [t["title"] for t in lst["tasks"]]) for lst in shown["lists"]][:2] == [
        ("Todo", []),
        ("Doing", ["Ship the spec"]),
    ]


def test_the_library_snippet_runs_as_shown(database_url, monkeypatch):
    from cli_runner import url_text

    [snippet] = re.findall(r"^```python\n(.*?)^```", README.read_text(), re.MULTILINE | re.DOTALL)
    monkeypatch.setenv("CONCORD_DATABASE_URL", url_text(database_url))  # connect() reads it
    names: dict = {}
    exec(compile(snippet, "README.md", "exec"), names)
    names["db"].close()
    assert (names["task"].title, names["task"].points) == ("Write the spec", 4)
