"""A sweep cell's ``waits`` and ``server`` from its runs': shares weighted by samples, counts summed.

A run without samples (sampling off, or an older file) is left out; with none left the entry is None.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from concord.race.waits.describe import honesty_line
from concord.race.waits.profile import MAX_EDGES, group_of
from concord.race.waits.server import mismatches


def merge_waits(entries: list[dict[str, Any] | None]) -> dict[str, Any] | None:
    runs = [w for w in entries if w and w.get("samples")]
    if not runs:
        return None
    samples = sum(w["samples"] for w in runs)
    profile: dict[str, float] = {}
    for w in runs:
        for key, share in w["profile"].items():
            profile[key] = profile.get(key, 0.0) + share * w["samples"] / samples
    groups: dict[str, float] = {}
    for key, share in profile.items():
        groups[group_of(key)] = groups.get(group_of(key), 0.0) + share
    edges: Counter[tuple[Any, Any]] = Counter()
    for w in runs:
        for e in w.get("blocking", []):
            edges[(e["waiter"], e["holder"])] += e["samples"]
    longest = [w["longest_wait_ms"] for w in runs if w.get("longest_wait_ms")]
    merged = {
        "runs": len(runs),
        "samples": samples,
        "interval_ms": runs[0]["interval_ms"],
        "workers_sampled": runs[0].get("workers_sampled", 0),
        "profile": {k: round(v, 4) for k, v in _biggest_first(profile)},
        "groups": {k: round(v, 4) for k, v in _biggest_first(groups)},
        "blocking": [{"waiter": w, "holder": h, "samples": n} for (w, h), n in edges.most_common(MAX_EDGES)],
        "blocking_samples": sum(w.get("blocking_samples", 0) for w in runs),
        "max_waiters": max(w.get("max_waiters", 0) for w in runs),
        "longest_chain": max(w.get("longest_chain", 0) for w in runs),
        "longest_wait_ms": max(longest, key=lambda x: x["ms"]) if longest else None,
        "cpu": merge_cpu([w["cpu"] for w in runs if w.get("cpu")]),
    }
    merged["note"] = honesty_line(merged) + f" (over {len(runs)} runs)"
    return merged


def _biggest_first(shares: dict[str, float]) -> list[tuple[str, float]]:
    return sorted(shares.items(), key=lambda kv: -kv[1])


def merge_cpu(entries: list[dict[str, Any]]) -> dict[str, Any] | None:
    if not entries:
        return None

    def mean(key: str) -> float | None:
        known = [e[key] for e in entries if e.get(key) is not None]
        return round(sum(known) / len(known), 3) if known else None

    bound = [e for e in entries if e.get("client_bound")]
    out = {
        "cores": entries[0]["cores"],
        "client_cores": mean("client_cores"),
        "server_cores": mean("server_cores"),
        "client_usable_cores": entries[0].get("client_usable_cores"),
        "client_bound": bool(bound),
    }
    if bound:
        out["note"] = f"{bound[0]['note']} ({len(bound)} of {len(entries)} runs)"
    return out


def merge_server(entries: list[dict[str, Any] | None]) -> dict[str, Any] | None:
    runs = [s for s in entries if s]
    if not runs:
        return None
    skip = {"database", "reconciliation", "mismatches", "note"}
    counters: Counter[str] = Counter()
    for s in runs:
        counters.update({k: v for k, v in s.items() if k not in skip and isinstance(v, int)})
    totals: dict[str, dict[str, Any]] = {}
    for s in runs:
        for r in s.get("reconciliation", []):
            line = totals.setdefault(r["counter"], {"counter": r["counter"], "server": 0, "clients": 0})
            line["server"] += r["server"]
            line["clients"] += r["clients"]
            if not r["match"] and r.get("note"):
                line["note"] = r["note"]
    reconciliation = [{**line, "match": line["server"] == line["clients"]} for line in totals.values()]
    for line in reconciliation:
        if line["match"]:
            line.pop("note", None)
    return {
        "database": runs[0].get("database"),
        **dict(counters),
        "reconciliation": reconciliation,
        "mismatches": mismatches(reconciliation),
    }
