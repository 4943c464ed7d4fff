"""The ``waits`` and ``server`` entries of a cell in words, for the table, ``--waits`` and reports.

Pure functions of the result document's dictionaries, so a file written earlier renders the same.
"""

from __future__ import annotations

from typing import Any

from concord.nouns import count


def top_wait(waits: dict[str, Any] | None) -> str:
    """The biggest share of worker-time, compactly: ``Lock:transactionid 71%`` ('-' without)."""
    profile = (waits or {}).get("profile") or {}
    if not profile:
        return "-"
    key, share = max(profile.items(), key=lambda item: item[1])
    return f"{key} {share:.0%}"


def honesty_line(waits: dict[str, Any]) -> str:
    """What the profile rests on: the samples, the interval, and what sampling misses."""
    interval = waits.get("interval_ms")
    mean = waits.get("mean_interval_ms")
    took = f" (every {mean:g} ms on average)" if mean and interval and abs(mean - interval) > 0.5 else ""
    graph = waits.get("blocking_samples")
    blockers = f", who blocked whom on {graph:,} of them" if graph else ""
    return (
        f"{count(waits.get('samples', 0), 'sample')} of {count(waits.get('workers_sampled', 0), 'worker')}, "
        f"every {interval:g} ms{took}{blockers}: shares of worker-time are shares of samples; "
        f"waits shorter than {interval:g} ms are undercounted and the longest wait is an estimate "
        "to within one interval"
    )


def share_lines(waits: dict[str, Any], limit: int | None = None) -> list[str]:
    """``Lock:transactionid  71.2%`` lines, biggest first."""
    items = list((waits.get("profile") or {}).items())[:limit]
    width = max((len(k) for k, _ in items), default=0)
    return [f"{key:<{width}}  {share:6.1%}" for key, share in items]


def edge_lines(waits: dict[str, Any], limit: int = 5) -> list[str]:
    """The most seen waiter -> holder edges: ``worker 3 waited for worker 5 in 41 samples``."""
    lines = []
    for edge in (waits.get("blocking") or [])[:limit]:
        holder = f"worker {edge['holder']}" if edge["holder"] is not None else f"pid {edge.get('holder_pid')}"
        lines.append(f"worker {edge['waiter']} waited for {holder} in {count(edge['samples'], 'sample')}")
    return lines


def blocking_line(waits: dict[str, Any]) -> str:
    """Most waiters at once, the longest chain, the longest wait and the hottest holder."""
    most = waits.get("max_waiters", 0)
    parts = [f"at most {count(most, 'worker')} waiting on a lock at once" if most else "no lock waits seen"]
    if waits.get("longest_chain"):
        parts.append(f"longest chain {waits['longest_chain']}")
    longest = waits.get("longest_wait_ms")
    if longest:
        parts.append(
            f"longest wait ~{longest['ms']:,.0f} ms ({longest['event']}, worker {longest['worker']})"
        )
    hottest = waits.get("hottest_holder")
    if hottest:
        who = f"worker {hottest['worker']}" if hottest["worker"] is not None else f"pid {hottest['pid']}"
        parts.append(f"hottest holder {who} ({count(hottest['samples'], 'waiter-sample')})")
    return "; ".join(parts)


def cpu_line(waits: dict[str, Any]) -> str | None:
    cpu = waits.get("cpu")
    if not cpu:
        return None
    server = "" if cpu.get("server_cores") is None else f", its backends {cpu['server_cores']:.2f}"
    text = f"CPU: concord used {cpu['client_cores']:.2f} cores{server} (of {cpu['cores']})"
    if waits.get("sampler_cpu_s") is not None and waits.get("seconds_sampled"):
        own = waits["sampler_cpu_s"] / waits["seconds_sampled"] + cpu.get("sampler_backend_cores", 0.0)
        text += f"; the sampler itself {own:.3f} (its thread and its backend)"
    return text + (f". {cpu['note']}" if cpu.get("note") else "")


def nowait_line(waits: dict[str, Any]) -> str | None:
    nowait = waits.get("nowait")
    if not nowait:
        return None
    if not nowait.get("available"):
        return f"NOWAIT holders: cannot tell: {nowait.get('reason')}"
    holders = nowait.get("holders") or []
    top = ", ".join(f"worker {h['waiter']} by {_who(h['holder'])} x{h['failures']}" for h in holders[:3])
    return f"NOWAIT holders (log_lock_failures): {count(nowait.get('logged', 0), 'failure')} logged" + (
        f"; {top}" if top else ""
    )


def _who(worker: int | None) -> str:
    return "another session" if worker is None else f"worker {worker}"


def server_line(server: dict[str, Any] | None) -> str | None:
    """``server: 12 deadlocks = clients' 12; xact_rollback 40 = 40; xact_commit 9,811 vs 9,810``."""
    if not server:
        return None
    parts = []
    for r in server.get("reconciliation", []):
        sign = "=" if r["match"] else "≠"
        parts.append(f"{r['counter']} {r['server']:,} {sign} clients' {r['clients']:,}")
    text = "server (pg_stat_database): " + "; ".join(parts)
    return text + "".join(f"\n  mismatch: {m}" for m in server.get("mismatches", []))


def detail_lines(waits: dict[str, Any] | None, server: dict[str, Any] | None) -> list[str]:
    """Everything ``--waits`` prints for one cell, line by line."""
    if not waits:
        return ["no wait samples (sampling was off, or the race went through HTTP)"]
    lines = [f"  {line}" for line in share_lines(waits)]
    lines.append(blocking_line(waits))
    lines += [f"  {line}" for line in edge_lines(waits)]
    lines += [line for line in (nowait_line(waits), cpu_line(waits), server_line(server)) if line]
    if waits.get("error"):
        lines.append(waits["error"])
    lines.append(waits.get("note") or honesty_line(waits))
    return lines
