"""Running the `concord` command in-process, through its real error policy, with Typer's CliRunner.

`CliRunner.invoke(app, ...)` would run the Typer app in standalone mode and bypass `main()`, where
concord maps its errors to one line and an exit code. So the runner's isolation (captured stdout
and stderr, a controlled environment) wraps `run_with_error_policy`, the function `main()` calls.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from functools import cache
from typing import Any

import typer
from sqlalchemy import URL
from typer.testing import CliRunner

from concord.cli import app
from concord.cli.errors import run_with_error_policy

# Variables a command reads or sets (the root --database-url sets CONCORD_DATABASE_URL in-process);
# naming them here makes the runner restore them after every command.
_CLEAN_ENV: dict[str, str | None] = {
    "CONCORD_DATABASE_URL": None,
    "CONCORD_DEBUG": None,
    "CONCORD_EVENT_LOOP": None,
    "COLUMNS": "200",
}


@dataclass(frozen=True)
class Outcome:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


def url_text(url: URL | str) -> str:
    return url.render_as_string(hide_password=False) if isinstance(url, URL) else url


@cache
def _command():
    """The app built into its command once: Typer rebuilds it on every call, which costs ~0.1 s."""
    return typer.main.get_command(app)


def run(*args: str, env: dict[str, str | None] | None = None) -> Outcome:
    """Run ``concord ARGS...`` and return its exit code, stdout and stderr."""
    with CliRunner().isolation(env={**_CLEAN_ENV, **(env or {})}) as (out, err, _mixed):
        code = run_with_error_policy(_command(), list(args))  # called just as the app would be
        sys.stdout.flush()
        sys.stderr.flush()
        return Outcome(code, out.getvalue().decode(), err.getvalue().decode())


def on(database_url: URL | str, *args: str, env: dict[str, str | None] | None = None) -> Outcome:
    """Run ``concord ARGS... --database-url URL`` (the option given to the subcommand)."""
    return run(*args, "--database-url", url_text(database_url), env=env)
