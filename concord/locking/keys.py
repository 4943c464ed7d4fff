"""What a lock is taken on, and the advisory-lock key of an entity; no SQLAlchemy here.

These are the parts of the locking strategies a racing worker needs at run time (see
the scenarios' ``program`` modules): worker processes import this module, never the strategies' statement
builders, so they stay lean. The key scheme is explained in `concord.locking.advisory`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from hashlib import blake2b

#: Name of the bind parameter the optimistic write compares the version column with.
EXPECTED_VERSION = "expected_version"
KEY_PREFIX = "concord"


@dataclass(frozen=True, slots=True)
class EntityKey:
    """What a lock protects: a table (or any namespace) and a row id in it."""

    namespace: str
    id: int


def advisory_key(namespace: str, entity_id: int) -> int:
    """The signed int64 advisory-lock key of one entity (see `concord.locking.advisory`)."""
    digest = blake2b(f"{KEY_PREFIX}:{namespace}:{entity_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def lock_order(keys: Sequence[EntityKey], *, ascending: bool) -> list[EntityKey]:
    """Keys in the order their locks are taken: ascending (namespace, id), or as given."""
    return sorted(keys, key=lambda k: (k.namespace, k.id)) if ascending else list(keys)
