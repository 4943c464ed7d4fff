"""Where concord's settings come from. Read only when asked, never at import time."""

from __future__ import annotations

import os
from pathlib import Path

DATABASE_URL_ENV = "CONCORD_DATABASE_URL"
HOME_ENV = "CONCORD_HOME"
DEBUG_ENV = "CONCORD_DEBUG"
EVENT_LOOP_ENV = "CONCORD_EVENT_LOOP"


def database_url_from_env() -> str | None:
    """The URL in CONCORD_DATABASE_URL, or None when unset or empty."""
    value = os.environ.get(DATABASE_URL_ENV, "").strip()
    return value or None


def home() -> Path:
    """concord's per-user data directory (the embedded server lives under it).

    CONCORD_HOME overrides the platform's user data directory (for example
    ~/.local/share/concord on Linux).
    """
    override = os.environ.get(HOME_ENV, "").strip()
    if override:
        return Path(override).expanduser().resolve()
    import platformdirs

    return platformdirs.user_data_path("concord")


def debug() -> bool:
    """True when CONCORD_DEBUG asks for tracebacks."""
    return os.environ.get(DEBUG_ENV, "").strip() not in ("", "0", "false", "no")


def event_loop_from_env() -> str | None:
    """The event loop CONCORD_EVENT_LOOP names for the asyncio executor (lower-cased), or None
    when unset or empty; `concord.race.executors.aio.event_loop` checks the name."""
    value = os.environ.get(EVENT_LOOP_ENV, "").strip().lower()
    return value or None
