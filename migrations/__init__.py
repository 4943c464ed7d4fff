"""Alembic migrations for concord's schema (installed as ``concord._migrations``)."""
