"""A user's scenario as a worker runs it: ``transaction(tx)`` inside the worker's BEGIN/COMMIT.

`UserProgram` is an ordinary `Program` whose operation has no steps for the driver: it calls the
user's ``transaction(tx)``, which runs its statements on the worker's connection through `Tx`
(`concord.race.scenarios.user.tx`) between the ``BEGIN`` and ``COMMIT`` the worker's session sends. So
the worker loop, the retry policy and the accounting of the built-in scenarios apply unchanged:
a serialization failure (40001), a deadlock (40P01), a lock not available (55P03) or a stale
version raised inside the user's code is classified by SQLSTATE and retried like any other.

Any other exception (a bug, a statement the server refused) becomes `ScenarioFailed`, whose
one line says what and where (the innermost frame of the user's own code); the worker stops on
it and the cell ends as an error.

The program crosses to worker processes as a `Target` (a file path or a module name, and an
attribute), never as the user's object: each worker process imports the user's module itself.
Nothing here imports SQLAlchemy.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import importlib.util
import os
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from concord.errors import Conflict, InvalidInput
from concord.race.scenarios.program import CompiledStrategy, Fixture, Program
from concord.race.scenarios.user.tx import Tx, TxMisuse
from concord.race.steps import DONE, Operation

_CONCORD = str(Path(__file__).resolve().parents[3]) + os.sep  # concord/
_PSYCOPG = str(Path(psycopg.__file__).resolve().parent) + os.sep
_STDLIB = tuple({sysconfig.get_paths()[k] + os.sep for k in ("stdlib", "platstdlib")})


class ScenarioFailed(Exception):
    """The user's code raised something that is not a conflict: the cell ends as an error."""


@dataclass(frozen=True)
class Target:
    """Where a user's scenario object lives, so any process can import it: ``kind`` is ``file``
    (``where`` is an absolute path) or ``module`` (``where`` is a module name); ``attribute``
    names the object in it (None: the module itself is the scenario)."""

    kind: str
    where: str
    attribute: str | None = None

    def module(self) -> Any:
        """Import the module (once per process); `InvalidInput` saying why it does not import."""
        return import_file(Path(self.where)) if self.kind == "file" else import_module(self.where)

    def load(self) -> Any:
        """The scenario object: the attribute (a class is instantiated), or the module itself."""
        module = self.module()
        if self.attribute is None:
            return module
        try:
            found = getattr(module, self.attribute)
        except AttributeError:
            raise InvalidInput(
                f"{self.shown()} has no object named {self.attribute!r}{_candidates(module)}"
            ) from None
        if isinstance(found, type):
            try:
                found = found()
            except Exception as exc:
                raise InvalidInput(f"could not create {self.describe()}: {describe(exc)}") from None
        return found

    def shown(self) -> str:
        return display_path(self.where) if self.kind == "file" else self.where

    def describe(self) -> str:
        return self.shown() + (f":{self.attribute}" if self.attribute else "")


def import_file(path: Path) -> Any:
    """Import a Python file as a module of its own (cached in ``sys.modules`` under a name derived
    from its absolute path); its folder is appended to ``sys.path`` so it can import its siblings."""
    path = path.expanduser().absolute()
    name = f"concord_scenario_{path.stem}_{hashlib.blake2b(str(path).encode(), digest_size=4).hexdigest()}"
    if name in sys.modules:
        return sys.modules[name]
    if not path.is_file():
        what = "is a folder, not a Python file" if path.is_dir() else "not found"
        raise InvalidInput(f"scenario file {display_path(str(path))} {what}")
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise InvalidInput(f"{display_path(str(path))} is not a Python file (name it *.py)")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # before running it, as import does (dataclasses look it up)
    if str(path.parent) not in sys.path:
        sys.path.append(str(path.parent))
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        del sys.modules[name]
        where = display_path(exc.filename or str(path))
        raise InvalidInput(f"{where}:{exc.lineno}: {exc.msg}") from None
    except Exception as exc:
        del sys.modules[name]
        raise InvalidInput(f"could not import {display_path(str(path))}: {describe(exc)}") from None
    return module


def import_module(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except SyntaxError as exc:
        raise InvalidInput(f"{display_path(exc.filename or name)}:{exc.lineno}: {exc.msg}") from None
    except ModuleNotFoundError as exc:
        if exc.name and (name == exc.name or name.startswith(exc.name + ".")):
            raise InvalidInput(f"no module named {name!r} (is it installed, or on PYTHONPATH?)") from None
        raise InvalidInput(f"could not import {name}: {describe(exc)}") from None
    except Exception as exc:
        raise InvalidInput(f"could not import {name}: {describe(exc)}") from None


def _candidates(module: Any) -> str:
    found = [
        n
        for n, v in vars(module).items()
        if not n.startswith("_") and callable(getattr(v, "transaction", None))
    ]
    return f" (scenarios in it: {', '.join(found)})" if found else ""


class UserProgram(Program):
    """The user's ``transaction(tx)`` as the operation every worker runs (picklable by `Target`)."""

    first_step_offline = False  # the user's statements run in the generator, after BEGIN

    def __init__(
        self,
        strategy: CompiledStrategy,
        fixture: Fixture,
        *,
        row_lock: str,
        scenario: Any,
        target: Target | None,
    ) -> None:
        super().__init__(strategy, fixture)
        self.row_lock, self.target = row_lock, target
        self._scenario = scenario
        self._txs: dict[int, Tx] = {}

    def __getstate__(self) -> dict[str, Any]:
        # A worker process imports the user's module itself: the object and connections stay here.
        return {**self.__dict__, "_scenario": None, "_txs": {}}

    def attach(self, worker: int, session: Any, seed: int) -> None:
        self._txs[worker] = Tx(session.conn, worker, seed, self.strategy, self.row_lock, run=session.execute)
        if self._scenario is None and self.target is not None:
            # A worker process imports the user's module before the start signal, so the import
            # is not timed as its first transaction; a failure is raised there, with its line.
            with contextlib.suppress(Exception):
                self._scenario = self.target.load()

    def operation(self, worker: int, seq: int) -> Operation:
        return self._attempt(self._txs[worker])

    def _attempt(self, tx: Tx) -> Operation:
        tx.begin()
        try:
            self._user().transaction(tx)
        except (Conflict, psycopg.OperationalError):
            raise  # stale versions, 40001, 40P01, 55P03, cancels, a lost server: the worker's to classify
        except Exception as exc:
            raise ScenarioFailed(describe(exc)) from exc
        return DONE
        yield  # type: ignore[unreachable]  # makes this a generator: an operation with no steps

    def _user(self) -> Any:
        if self._scenario is None:
            if self.target is None:
                raise InvalidInput(
                    "this scenario was given as an object: it runs on the threads executor only"
                )
            self._scenario = self.target.load()
        return self._scenario


def describe(exc: BaseException) -> str:
    """``Type (SQLSTATE): first line (at file:line, in function)``, the frame being the innermost
    one in the user's code (not concord's, psycopg's or the standard library's)."""
    text = (str(exc).strip() or type(exc).__name__).splitlines()[0]
    state = getattr(exc, "sqlstate", None)
    kind = "tx" if isinstance(exc, TxMisuse) else type(exc).__name__ + (f" ({state})" if state else "")
    at = where(exc)
    return f"{kind}: {text}" + (f" (at {at})" if at else "")


def where(exc: BaseException) -> str | None:
    found = None
    tb = exc.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        if _users(code.co_filename):
            found = f"{display_path(code.co_filename)}:{tb.tb_lineno}, in {code.co_name}"
        tb = tb.tb_next
    return found


def _users(filename: str) -> bool:
    if filename.startswith(("<", _CONCORD, _PSYCOPG)):
        return False
    installed = "site-packages" in filename or "dist-packages" in filename
    return installed or not filename.startswith(_STDLIB)


def display_path(path: str) -> str:
    """``path`` relative to the working directory when it is under it."""
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return path
    return path if relative.startswith("..") else relative
