"""Database URLs: where they come from, how they are checked and how they are shown."""

from __future__ import annotations

import re

from sqlalchemy import URL, make_url
from sqlalchemy.exc import ArgumentError

from concord import config
from concord.errors import InvalidInput

_POSTGRES_DRIVERS = {
    "postgres",
    "postgresql",
    "postgresql+psycopg",
    "postgresql+psycopg2",
    "postgresql+pg8000",
}


def normalize_url(raw: str | URL) -> URL:
    """Parse a PostgreSQL URL and make it use psycopg 3.

    A plain ``postgresql://`` URL would select psycopg2 in SQLAlchemy; concord always talks
    through psycopg 3, so the driver is rewritten to ``postgresql+psycopg``.
    """
    if isinstance(raw, str) and not _is_utf8(raw):
        # Bytes from the environment that are not UTF-8 reach Python as lone surrogates.
        raise InvalidInput("the database URL is not valid UTF-8 text: check CONCORD_DATABASE_URL")
    try:
        url = make_url(raw) if isinstance(raw, str) else raw
    except (ArgumentError, ValueError) as exc:  # ValueError: a port that is not a number
        raise InvalidInput(
            f"malformed database URL {_masked_text(str(raw))!r}: "
            "expected postgresql://user:password@host:port/dbname"
        ) from exc
    if url.port is not None and not 0 < url.port < 65536:
        raise InvalidInput(f"the database URL {mask_url(url)} names port {url.port}: give 1 to 65535")
    if url.drivername not in _POSTGRES_DRIVERS:
        raise InvalidInput(f"concord needs PostgreSQL, but the URL names {url.drivername!r}")
    if not url.database:
        raise InvalidInput(f"the database URL {mask_url(url)} names no database")
    return url.set(drivername="postgresql+psycopg")


def resolve_url(explicit: str | None = None) -> URL:
    """The URL to use: the explicit one, else CONCORD_DATABASE_URL, else the embedded server's.

    Resolving to the embedded server starts it if it is not running. An explicit URL that is empty
    (``--database-url "$UNSET"``) is refused rather than taken to mean the embedded server: a lab
    run against the wrong server is worse than no run.
    """
    if explicit is not None:
        check_url(explicit)
    raw = explicit or config.database_url_from_env()
    if raw:
        return normalize_url(raw)
    from concord.db.embedded import EmbeddedServer

    return normalize_url(EmbeddedServer.default().ensure_running())


def check_url(raw: str) -> None:
    """Refuse a URL that is empty, malformed or not PostgreSQL's, without connecting anywhere."""
    if not raw.strip():
        raise InvalidInput(
            "the database URL is empty: give a PostgreSQL URL, "
            "or leave the option out for the embedded server"
        )
    normalize_url(raw)


def describe_database(explicit: str | None = None) -> str:
    """Which database a command would use, in words, without connecting or starting a server."""
    raw = explicit or config.database_url_from_env()
    if raw:
        return mask_url(raw)
    from concord.db.embedded import DATABASE, EmbeddedServer

    return f"the embedded database {DATABASE!r} in {EmbeddedServer.default().data_dir}"


def mask_url(url: str | URL) -> str:
    """The URL as text with its password replaced by ``***``."""
    if isinstance(url, str):
        try:
            url = make_url(url)
        except (ArgumentError, ValueError):
            return "<malformed URL>"
    return url.render_as_string(hide_password=True)


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _masked_text(raw: str) -> str:
    """A URL that does not parse, as text with anything between ``user:`` and ``@`` masked."""
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", raw)


def libpq_dsn(url: URL) -> str:
    """The URL as a libpq connection string (for psycopg directly, pgbench or psql)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)
