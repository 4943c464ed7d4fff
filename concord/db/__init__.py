"""Connections to PostgreSQL: URLs, the embedded server, engines, isolation levels and migrations."""

from concord.db.engine import Isolation, create_engine
from concord.db.urls import mask_url, normalize_url, resolve_url

__all__ = ["Isolation", "create_engine", "mask_url", "normalize_url", "resolve_url"]
