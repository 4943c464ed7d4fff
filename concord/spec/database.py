"""A database of its own for each spec, and what a spec needs that a server may lack."""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Iterator

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from concord.errors import ConcordError, DatabaseUnavailable
from concord.spec.model import Spec

# What pg_regress sets for every test database (and through PGTZ/PGDATESTYLE), so that dates,
# money and messages print as in PostgreSQL's expected files. lc_messages needs a superuser.
_DATABASE_SETTINGS = {
    "timezone": "PST8PDT",
    "datestyle": "Postgres, MDY",
    "lc_monetary": "C",
    "lc_numeric": "C",
    "lc_time": "C",
    "bytea_output": "hex",
    "timezone_abbreviations": "Default",
}
_PREPARE_TRANSACTION = re.compile(r"\bprepare\s+transaction\b", re.IGNORECASE)
_CREATE_EXTENSION = re.compile(r"\bcreate\s+extension\s+(?:if\s+not\s+exists\s+)?\"?(\w+)", re.IGNORECASE)


def connect_admin(dsn: str) -> psycopg.Connection:
    try:
        return psycopg.connect(dsn, autocommit=True, connect_timeout=10, application_name="concord spec")
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailable(f"cannot connect to PostgreSQL: {str(exc).strip()}") from exc


@contextlib.contextmanager
def fresh_database(admin: psycopg.Connection, dsn: str) -> Iterator[str]:
    """Create a database for one spec and yield its connection string; drop it (FORCE) afterwards.

    The drop runs on every way out, Ctrl-C included, and ends any backend still connected.
    """
    name = f"concord_spec_{uuid.uuid4().hex[:12]}"
    try:
        admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(name)))
    except psycopg.Error as exc:
        raise ConcordError(f"cannot create a database for the spec: {exc.diag.message_primary}") from exc
    try:
        for setting, value in _DATABASE_SETTINGS.items():
            _set(admin, name, setting, value)
        with contextlib.suppress(psycopg.errors.InsufficientPrivilege):
            _set(admin, name, "lc_messages", "C")
        yield make_conninfo(dsn, dbname=name)
    finally:
        with contextlib.suppress(psycopg.OperationalError):
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _set(admin: psycopg.Connection, database: str, setting: str, value: str) -> None:
    statement = sql.SQL("ALTER DATABASE {} SET {} TO {}")
    admin.execute(statement.format(sql.Identifier(database), sql.Identifier(setting), sql.Literal(value)))


def missing_requirements(spec: Spec, admin: psycopg.Connection) -> str | None:
    """Why this server cannot run the spec, found by reading its SQL; None when nothing is missing.

    Scanning the spec (rather than waiting for the error) decides before anything runs, so a
    skipped spec prints nothing that could be mistaken for its output.
    """
    text = "\n".join(_all_sql(spec))
    if _PREPARE_TRANSACTION.search(text):
        setting = admin.execute("SHOW max_prepared_transactions").fetchone()
        if setting is not None and int(setting[0]) == 0:
            return "needs prepared transactions, and the server has max_prepared_transactions = 0"
    wanted = sorted({name.lower() for name in _CREATE_EXTENSION.findall(text)})
    if wanted:
        rows = admin.execute(
            "SELECT name FROM pg_available_extensions WHERE name = ANY(%s)", [wanted]
        ).fetchall()
        missing = sorted(set(wanted) - {row[0] for row in rows})
        if missing:
            return f"needs the extension {', '.join(missing)}, which the server does not have"
    return None


def _all_sql(spec: Spec) -> Iterator[str]:
    yield from spec.setups
    if spec.teardown:
        yield spec.teardown
    for session in spec.sessions:
        yield from (block for block in (session.setup, session.teardown) if block)
        yield from (step.sql for step in session.steps)
