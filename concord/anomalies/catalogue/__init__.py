"""The catalogue of anomaly tests, in matrix order, and how names select from it.

The anomaly ids are those of Adya's thesis as used by Hermitage and Elle. A name in ``--only``
is an id (every variant of it, case-insensitive) or ``id/variant`` for one form.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from concord.anomalies.catalogue import dirty, single_antidependency, skew, vanishing
from concord.anomalies.script import AnomalyTest
from concord.errors import InvalidInput

CATALOGUE: tuple[AnomalyTest, ...] = (
    *dirty.TESTS,
    *vanishing.TESTS,
    *single_antidependency.TESTS,
    *skew.TESTS,
)


def anomaly_ids() -> list[str]:
    """The anomaly ids in catalogue order, each once."""
    return list(dict.fromkeys(test.anomaly for test in CATALOGUE))


def select(
    names: Iterable[str] | None = None, *, catalogue: Sequence[AnomalyTest] = CATALOGUE
) -> list[AnomalyTest]:
    """The tests named (all when ``names`` is empty), in catalogue order.

    Raises `InvalidInput` naming the first unknown name and the known ids.
    """
    wanted = [name.strip() for name in names or () if name.strip()]
    if not wanted:
        return list(catalogue)
    chosen: set[str] = set()
    for name in wanted:
        found = [test.key for test in catalogue if _matches(test, name)]
        if not found:
            known = ", ".join(dict.fromkeys(test.anomaly for test in catalogue))
            raise InvalidInput(f"unknown anomaly {name!r}: choose from {known} (or id/variant)")
        chosen.update(found)
    return [test for test in catalogue if test.key in chosen]


def _matches(test: AnomalyTest, name: str) -> bool:
    key = _normal(name)
    return key in (_normal(test.anomaly), _normal(test.key))


def _normal(name: str) -> str:
    """Case, dashes, underscores and runs of spaces do not matter: g-single/Item-Read works."""
    anomaly, _, variant = name.casefold().partition("/")
    words = " ".join(variant.replace("-", " ").replace("_", " ").split())
    return f"{anomaly.strip()}/{words}" if variant else anomaly.strip()
