"""The command line's one error policy: typed errors become one line and an exit code."""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
import traceback
from collections.abc import Iterator

import typer

from concord import config
from concord.errors import AlreadyAssigned, ConcordError, Conflict, InvalidInput, NotFound

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_CONFLICT = 3
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143  # 128 + SIGTERM, what a shell reports for a process SIGTERM ended


class UsageError(InvalidInput):
    """Bad command-line input detected by concord itself (exit code 2, like Typer's own)."""


def exit_code_for(exc: BaseException) -> int:
    """The exit code of a concord error.

    The policy: a bad value given to a command is a usage error (2), whether Typer, the command
    or the library finds it (a title too long, a position below 0, a URL without a database), as
    concord checks every value before it writes. What the values meet is an error (1): an id not
    found, a server not reachable, a database not migrated, and an error the server raised while
    running a statement (an `InvalidInput` with a SQLSTATE, such as a division by zero in
    `explain --sql`): the data it ran on may be the cause as much as the values. A write that lost
    to another is a conflict (3).
    """
    if isinstance(exc, InvalidInput) and exc.sqlstate is None:
        return EXIT_USAGE
    if isinstance(exc, Conflict):
        return EXIT_CONFLICT
    return EXIT_ERROR


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C raises KeyboardInterrupt so that it takes the same path.

    Every long command already stops cleanly on Ctrl-C (a race stops its workers, cancels their
    queries and writes its partial results); a subclass reaches each of those handlers unchanged.
    """


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[list[int]]:
    """While inside, SIGTERM raises `Terminated` in the main thread; yields the signals received.

    Only the first SIGTERM raises: a second one while the first is being handled (a supervisor
    repeating itself) must not cut short the cleanup that ends the workers and their sessions.
    """
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received  # signal handlers can only be set from the main thread
        return

    def on_sigterm(signum: int, _frame) -> None:
        received.append(signum)
        if len(received) == 1:
            raise Terminated

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        yield received
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_with_error_policy(app: typer.Typer, argv: list[str] | None) -> int:
    """Run the Typer app; map what escapes it to a message and an exit code.

    SIGTERM is handled like Ctrl-C, then reported as exit 143 instead of 130.
    """
    with sigterm_as_interrupt() as terminated:
        code = _run(app, argv)
    # A command may end "successfully" after a SIGTERM: uvicorn shuts `serve` down on it and
    # swallows the KeyboardInterrupt it raises again afterwards. It was terminated all the same.
    if terminated and code in (EXIT_OK, EXIT_INTERRUPTED):
        print("concord: terminated", file=sys.stderr)
        return EXIT_TERMINATED
    if code == EXIT_INTERRUPTED:
        print("concord: interrupted", file=sys.stderr)
    return code


def _run(app: typer.Typer, argv: list[str] | None) -> int:
    try:
        # Without standalone mode Typer returns the code of a typer.Exit (130 for Ctrl-C)
        # instead of calling sys.exit, and lets usage errors propagate to us.
        refuse_undecodable(sys.argv[1:] if argv is None else argv)
        outcome = app(args=argv, prog_name="concord", standalone_mode=False)
    except typer.Exit as done:
        return done.exit_code
    except typer.Abort:
        print("concord: aborted", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:  # Ctrl-C, or SIGTERM (`Terminated`)
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
    # Typer turns Ctrl-C into Exit(130) itself and, outside standalone mode, returns the code.
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


def refuse_undecodable(argv: list[str]) -> None:
    """Refuse an argument that is not UTF-8 before any command sees it.

    Python decodes such bytes into lone surrogates (``b"\\xff"`` becomes ``"\\udcff"``), which
    no text can hold: the database, a file of results or the terminal would each fail later.
    """
    for position, arg in enumerate(argv, start=1):
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            raw = arg.encode("utf-8", "surrogateescape")
            raise UsageError(f"argument {position} is not valid UTF-8 text: {raw!r}") from None


def _usage_error(exc: Exception) -> int | None:
    """Typer's own errors (a bad option value, a missing argument): one line and exit 2, as
    concord's own; only a group called without a command shows its help instead."""
    format_message = getattr(exc, "format_message", None)
    if not isinstance(exc, typer.TyperException) or not callable(format_message):
        return None
    show = getattr(exc, "show", None)  # Typer's classes are private (typer._click): looked up by name
    if type(exc).__name__ == "NoArgsIsHelpError" and callable(show):
        show()
        return EXIT_USAGE
    ctx = getattr(exc, "ctx", None)
    hint = f" (see {ctx.command_path} --help)" if ctx is not None else ""
    return _report(exc, f"{format_message()}{hint}", EXIT_USAGE)


def _report(exc: BaseException, message: str, code: int) -> int:
    if config.debug():
        traceback.print_exception(exc)
    one_line = " ".join(message.split())  # a driver message may span lines; the policy is one
    print(f"concord: {one_line}", file=sys.stderr)
    return code
