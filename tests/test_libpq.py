"""The workers' libpq session reading results: psycopg's loaders, and its fallback for unknown types."""

from __future__ import annotations

import psycopg
import sqlalchemy as sa
from test_race_support import dsn

from concord.race.libpq import LibpqSession
from concord.race.steps import Fetch, Sql


def test_a_column_of_a_type_psycopg_has_no_loader_for_reads_as_its_text(database_url):
    with psycopg.connect(dsn(database_url), autocommit=True) as conn:
        conn.execute("CREATE TYPE mood AS ENUM ('calm', 'racing')")
        session = LibpqSession(conn, "read committed")
        session.begin()
        row = session.execute(Sql.of(sa.text("SELECT 'racing'::mood, 7::int4, 'x'::text"), Fetch.ROW), {})
        scalar = session.execute(Sql.of(sa.text("SELECT 'calm'::mood"), Fetch.SCALAR), {})
        session.commit()
    assert (row, scalar) == (("racing", 7, "x"), "calm")
