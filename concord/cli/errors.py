"""The command line's one error policy: typed errors become one line and an exit code."""

from __future__ import annotations

import sys
import traceback

import typer

from concord import config
from concord.errors import AlreadyAssigned, ConcordError, Conflict, InvalidInput, NotFound

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_CONFLICT = 3
EXIT_INTERRUPTED = 130


class UsageError(InvalidInput):
    """Bad command-line input detected by concord itself (exit code 2, like Typer's own)."""


def exit_code_for(exc: BaseException) -> int:
    if isinstance(exc, UsageError):
        return EXIT_USAGE
    if isinstance(exc, Conflict):
        return EXIT_CONFLICT
    return EXIT_ERROR


def run_with_error_policy(app: typer.Typer, argv: list[str] | None) -> int:
    """Run the Typer app; map what escapes it to a message and an exit code."""
    try:
        # Without standalone mode Typer returns the code of a typer.Exit (130 for Ctrl-C)
        # instead of calling sys.exit, and lets usage errors propagate to us.
        outcome = app(args=argv, prog_name="concord", standalone_mode=False)
    except typer.Exit as done:
        return done.exit_code
    except typer.Abort:
        print("concord: aborted", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("concord: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except ConcordError as exc:
        return _report(exc, with_hint(exc), exit_code_for(exc))
    except Exception as exc:  # a click/typer usage error or a bug
        usage = _usage_error(exc)
        if usage is not None:
            return usage
        return _report(
            exc, f"unexpected {type(exc).__name__}: {exc} (CONCORD_DEBUG=1 shows the traceback)", EXIT_ERROR
        )
    if outcome == EXIT_INTERRUPTED:
        # Typer turns Ctrl-C into Exit(130) itself and, outside standalone mode, returns the code.
        print("concord: interrupted", file=sys.stderr)
    return outcome if isinstance(outcome, int) else EXIT_OK


# Where to look up a valid id, for each kind of thing the command line names by id.
_FIND = {
    "board": "`concord board list` shows the boards",
    "list": "`concord board show BOARD_ID` shows a board's lists",
    "task": "`concord board show BOARD_ID` shows a board's tasks",
    "user": "`concord user list` shows the users; `concord user create NAME` adds one",
}


def with_hint(exc: ConcordError) -> str:
    """The error's message, plus what to do at the command line where the library cannot say it."""
    if isinstance(exc, NotFound) and exc.entity in _FIND:
        return f"{exc.message}: {_FIND[exc.entity]}"
    if isinstance(exc, AlreadyAssigned):
        return f"{exc.message} (--reassign)"
    return exc.message


def _usage_error(exc: Exception) -> int | None:
    """Typer's own usage errors (bad option, missing argument) print their help and exit 2."""
    show = getattr(exc, "show", None)
    exit_code = getattr(exc, "exit_code", None)
    if callable(show) and isinstance(exit_code, int):
        show()
        return exit_code
    return None


def _report(exc: BaseException, message: str, code: int) -> int:
    if config.debug():
        traceback.print_exception(exc)
    one_line = " ".join(message.split())  # a driver message may span lines; the policy is one
    print(f"concord: {one_line}", file=sys.stderr)
    return code
