"""What every command shares: the database option, --json, and one renderer."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from concord.cli.errors import UsageError
from concord.client import Concord, connect
from concord.db.urls import describe_database

R = TypeVar("R")

DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar="CONCORD_DATABASE_URL",
        help="PostgreSQL URL; without it concord uses its embedded server.",
        show_default=False,
    ),
]
Json = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout instead of a table.")]
Yes = Annotated[
    bool,
    typer.Option(
        "--yes", help="Delete without asking (needed when stdin is not a terminal).", show_default=False
    ),
]


def open_db(database_url: str | None) -> Concord:
    """Connect (migrating a fresh database) for one command."""
    return connect(database_url)


def transact(database_url: str | None, operation: Callable[..., R], /, *args: Any, **kwargs: Any) -> R:
    """Connect, run one use case in its own transaction, and close the connections again.

    Closing matters when commands run in-process (tests, a long-lived shell): each command would
    otherwise leave a pool of idle connections behind.
    """
    with open_db(database_url) as db:
        return db.transact(operation, *args, **kwargs)


def confirm_deletion(what: str, *, command: str, yes: bool, database_url: str | None) -> None:
    """Go on only with --yes or a "y" typed at the terminal: every destructive command asks this way.

    ``what`` completes "Delete ... in <database>?" (e.g. "every board, list, task and user"). With
    no terminal to ask on (a script, a pipe, CI) and no --yes the command is refused with exit 2
    before it connects, so nothing is touched; answering anything but yes aborts with exit 1.
    """
    if yes:
        return
    if not sys.stdin.isatty():
        raise UsageError(f"{command} deletes {what}: add --yes to confirm (no terminal to ask on)")
    # The question goes to stderr, so a --json document on stdout stays clean.
    if not typer.confirm(f"Delete {what} in {describe_database(database_url)}?", default=False, err=True):
        raise typer.Abort()


def console() -> Console:
    """A console on stdout; made per call so it sees the terminal width of this run."""
    return Console(highlight=False)


def error_console() -> Console:
    return Console(stderr=True, highlight=False)


def render(payload: Any, *, as_json: bool, human: Callable[[Console], None]) -> None:
    """Print ``payload`` as JSON (with --json) or call ``human`` to draw it with Rich."""
    if as_json:
        json.dump(payload, sys.stdout, indent=2, default=_json_default)
        sys.stdout.write("\n")
        return
    human(console())


def _json_default(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "as_dict"):
        return value.as_dict()
    return str(value)
