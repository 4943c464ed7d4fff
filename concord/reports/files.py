"""The one place that writes a run's files under ``results/`` and ``logs/``.

Race, sweep, calibrate and anomalies all go through `write_run`:

- one time stamp, `stamp` (``20261204T221834Z``, UTC), so every kind of result sorts together;
- one base name per run, ``<stamp>-<name>``, claimed exclusively for all of the run's files
  (``-2``, ``-3``... when another run took it first): two runs that start in the same second
  never overwrite each other;
- each file is written to a hidden temporary file in its own folder and then renamed over its
  claimed name, so a reader never sees half a file, and a failure removes every file of the run;
  the document is then saved elsewhere (`kept_on_failure`) and the message says where;
- nothing passed in is changed: the paths are computed first, given to the code that renders
  the files (the documents name them), and returned.

Also here: `check_writable`, run before a long run so an unwritable folder shows at once.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from concord.errors import ConcordError

#: Writes a file's whole content to the path it is given (a temporary file beside the real one).
Write = Callable[[Path], None]

#: How many runs may share one stamp and name before a write gives up.
MAX_CLAIMS = 1000


class OutputUnwritable(ConcordError):
    """A folder that results are to be written to cannot take a file (exit 1: what the --out value
    meets, not the value itself, is wrong)."""


class ResultsNotWritten(ConcordError):
    """Writing a run's results failed; the message says where its document was saved instead."""


def stamp(started_at: str | datetime) -> str:
    """A run's start as it begins its file names: UTC, to the second, ``20261204T221834Z``.

    Takes an ISO 8601 text (``Z`` or an offset; without one it is taken as UTC) or a datetime.
    """
    if isinstance(started_at, str):
        try:
            moment = datetime.fromisoformat(started_at.replace("Z", "+00:00"))
        except ValueError:  # not a time: keep what a file name can hold rather than fail the write
            return "".join(ch for ch in started_at if ch.isalnum()) or "run"
    else:
        moment = started_at
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y%m%dT%H%M%SZ")


def text(content: str) -> Write:
    """A `Write` of a string."""
    return lambda path: _write_text(path, content)


def json_text(document: Any) -> Write:
    """A `Write` of a JSON document, indented, as every results file has it."""
    return text(json.dumps(document, indent=2, default=str) + "\n")


def _write_text(path: Path, content: str) -> None:
    path.write_text(content)


def write_run(
    name: str,
    started_at: str | datetime,
    places: Mapping[str, tuple[Path, str]],
    render: Callable[[dict[str, str]], Mapping[str, Write]],
    keep: Callable[[], Any],
) -> dict[str, str]:
    """Write one run's files; return their paths by kind.

    ``places`` maps each kind of file to its folder and suffix (``{"json": (results, ".json")}``);
    ``render`` receives the claimed paths and returns a `Write` per kind (a document that names
    its files can name them); ``keep`` gives the document saved elsewhere if writing fails, which
    then raises `ResultsNotWritten`.
    """
    base = f"{stamp(started_at)}-{name}"
    with kept_on_failure(keep, base):
        for folder, _ in places.values():
            folder.mkdir(parents=True, exist_ok=True)
        paths = claim(base, places)
        try:
            files = {kind: str(path) for kind, path in paths.items()}
            for kind, write in render(files).items():
                write_atomically(paths[kind], write)
        except BaseException:  # Ctrl-C too: a run's files are all there or none is
            for path in paths.values():
                path.unlink(missing_ok=True)
            raise
    return files


def claim(base: str, places: Mapping[str, tuple[Path, str]]) -> dict[str, Path]:
    """Create every file of a run empty and exclusively under ``base``, else ``base-2``, ``base-3``...

    Every run claims its files in the same order, so the first one taken decides; a name taken
    by anything else moves the whole set on to the next number.
    """
    for number in range(1, MAX_CLAIMS + 1):
        name = base if number == 1 else f"{base}-{number}"
        paths = {kind: folder / f"{name}{suffix}" for kind, (folder, suffix) in places.items()}
        created: list[Path] = []
        try:
            for path in paths.values():
                path.open("x").close()
                created.append(path)
            return paths
        except BaseException as exc:
            for path in created:
                path.unlink(missing_ok=True)
            if not isinstance(exc, FileExistsError):
                raise
    folders = ", ".join(sorted({str(folder) for folder, _ in places.values()}))
    raise FileExistsError(f"{MAX_CLAIMS} runs named {base} already in {folders}")


def write_atomically(path: Path, write: Write) -> None:
    """Have ``write`` fill a temporary file beside ``path``, then rename it over ``path``."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    os.close(handle)
    try:
        # mkstemp makes the file private; the claimed file has the mode the umask gives
        shutil.copymode(path, temporary)
        write(Path(temporary))
        os.replace(temporary, path)
    except BaseException as exc:
        Path(temporary).unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.filename == temporary:
            # name the file the user asked for, not its hidden stand-in
            raise OSError(exc.errno, exc.strerror, str(path)) from exc
        raise


def check_writable(*folders: Path) -> None:
    """Create each folder and write a probe file in it, before a run that may last hours.

    Otherwise a file in the way, a read-only folder or a full disk shows only at the end, after
    every measurement was taken. Raises `OutputUnwritable` naming the folder. Folders it had to
    create are removed again: a run refused later on leaves nothing behind.
    """
    for folder in folders:
        missing = [p for p in (folder, *folder.parents) if not p.exists()]  # deepest first
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=folder, prefix=".concord-write-check-"):
                pass
        except OSError as exc:
            raise OutputUnwritable(f"cannot write results in {folder}: {_why(folder, exc)}") from None
        finally:
            for created in missing:
                with suppress(OSError):
                    created.rmdir()


def _why(folder: Path, exc: OSError) -> str:
    blocker = next((p for p in (folder, *folder.parents) if p.exists() and not p.is_dir()), None)
    if blocker is not None:
        return "it is a file, not a folder" if blocker == folder else f"{blocker} is a file, not a folder"
    return exc.strerror or str(exc)


@contextmanager
def kept_on_failure(document: Callable[[], Any], name: str) -> Iterator[None]:
    """Run the block that writes a run's files; if it fails, save ``document()`` elsewhere.

    The copy goes to the temporary directory (else the home directory) as JSON, and
    `ResultsNotWritten` says in one line what failed and where the copy is: a run's measurements
    are never lost to a folder that became unwritable while it ran. An interrupt while writing
    saves the copy too, says where on stderr, and goes on as the interrupt it is.
    """
    try:
        yield
    except OSError as exc:
        failed = f"{exc.filename}: {exc.strerror}" if exc.filename and exc.strerror else str(exc)
        copy = _save_copy(document(), name)
        where = f"the result document is saved in {copy}" if copy else "no copy could be saved either"
        raise ResultsNotWritten(f"could not write the results ({failed}); {where}") from exc
    except KeyboardInterrupt:
        # Ctrl-C (or SIGTERM) while the files were written: they are removed, all or none, and
        # the run's measurements would go with them. Keep the document, say where, and let the
        # interrupt go on (the exit code stays the interrupt's).
        copy = _save_copy(document(), name)
        if copy is not None:
            saved = f"the result document is saved in {copy}"
            print(f"concord: interrupted while writing the results; {saved}", file=sys.stderr)
        raise


def _save_copy(document: Any, name: str) -> Path | None:
    text = json.dumps(document, indent=2, default=str) + "\n"
    for folder in (Path(tempfile.gettempdir()), Path.home()):
        try:
            handle, path = tempfile.mkstemp(prefix=f"concord-{name}-", suffix=".json", dir=folder)
        except OSError:
            continue
        try:
            with os.fdopen(handle, "w") as file:
                file.write(text)
            return Path(path)
        except OSError:  # a full disk: leave no half-written copy behind
            Path(path).unlink(missing_ok=True)
    return None
