"""`concord scenarios`: the scenarios concord can race, built in and installed, with their invariants."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from concord.cli.common import Json, render
from concord.race.scenarios.sources import Listed, available, load_scenario


def scenarios(
    sources: Annotated[
        list[str] | None,
        typer.Argument(
            help="Also load these: path/to/file.py:NAME or package.module:NAME (checks the contract).",
            metavar="SOURCE",
            show_default=False,
        ),
    ] = None,
    as_json: Json = False,
) -> None:
    """List the scenarios `concord race --scenario` accepts: built in, installed as entry points
    (group `concord.scenarios`), and any file or module named here."""
    found = available()
    for source in sources or []:
        scenario = load_scenario(source)  # a bad one is one line and exit 2
        found.append(Listed(scenario.name, source, scenario.invariant, scenario.summary))
    render([asdict(s) for s in found], as_json=as_json, human=lambda console: console.print(table(found)))


def table(found: list[Listed]) -> Table:
    out = Table("name", "from", "invariant", box=box.SIMPLE_HEAD, pad_edge=False)
    for s in found:
        invariant = escape(s.invariant) if s.error is None else f"[yellow]{escape(s.error)}[/yellow]"
        out.add_row(escape(s.name), escape(s.source), invariant)
    return out
