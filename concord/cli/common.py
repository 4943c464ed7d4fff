"""What every command shares: the database option, --json, and one renderer."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from concord.cli.errors import UsageError
from concord.client import Concord, connect
from concord.db.urls import check_url, describe_database
from concord.services.refs import Named

R = TypeVar("R")


def _checked_url(value: str | None) -> str | None:
    """A bad URL is refused while the options are parsed, before a command prints or starts
    anything (a sweep its plan, the anomalies their progress)."""
    if value is not None:
        check_url(value)
    return value


DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar="CONCORD_DATABASE_URL",
        help="PostgreSQL URL; without it concord uses its embedded server.",
        show_default=False,
        callback=_checked_url,
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

    A `Named` board, list or task among the arguments is resolved to its id first, in a read
    of its own. Closing matters when commands run in-process (tests, a long-lived shell): each command would
    otherwise leave a pool of idle connections behind.
    """
    with open_db(database_url) as db:
        args = tuple(db.transact(a.resolve) if isinstance(a, Named) else a for a in args)
        kwargs = {k: db.transact(v.resolve) if isinstance(v, Named) else v for k, v in kwargs.items()}
        return db.transact(operation, *args, **kwargs)


#: Columns for output that goes to a pipe or a file: Rich would assume 80 and fold every table
#: wider than that; a reader of a file scrolls instead.
PIPED_WIDTH = 200


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
    """A console on stdout; made per call so it sees the terminal width of this run.

    Piped or redirected, without COLUMNS to say otherwise, it is `PIPED_WIDTH` wide.
    """
    piped = not sys.stdout.isatty() and not os.environ.get("COLUMNS")
    return Console(highlight=False, width=PIPED_WIDTH if piped else None)


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
