"""The wheel holds every package of concord/: the list in pyproject.toml is written by hand."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_package_of_the_source_tree_is_listed_for_the_wheel():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {
        ".".join(init.parent.relative_to(ROOT).parts) for init in (ROOT / "concord").rglob("__init__.py")
    }
    assert found - listed == set()
    # Shipped from migrations/ (see package-dir); the revisions are a package without __init__.py.
    assert listed - found == {"concord._migrations", "concord._migrations.versions"}
