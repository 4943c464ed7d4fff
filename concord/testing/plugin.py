"""concord's pytest plugin (entry point ``pytest11``): the ``concord_database`` fixture.

Loaded by pytest in every project where concord is installed, so it imports nothing of concord
until a test asks for the fixture.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture
def concord_database() -> Iterator[str]:
    """The URL of a fresh, empty database for this test, dropped after it
    (`concord.testing.databases.fresh_database`)."""
    from concord.testing.databases import fresh_database

    with fresh_database() as url:
        yield url
