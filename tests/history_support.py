"""An independent reading of a list-append history, to confirm the checker's cycles step by step."""

from __future__ import annotations


def confirm(step: dict, a: dict, b: dict, ops: list[dict]) -> None:
    """Check one step of a cycle against the raw history, without the checker's indices."""
    key, value, after = step["key"], step.get("value"), step.get("value'")
    reads = [v for op in ops if op["type"] == "ok" for f, k, v in op["value"] if f == "r" and k == key and v]
    longest = max(reads, key=len, default=[])
    appends = lambda op: [v for f, k, v in op["value"] if f == "append" and k == key]  # noqa: E731
    if step["type"] == "wr":
        assert value in appends(a)
        assert any(f == "r" and k == key and v and v[-1] == value for f, k, v in b["value"])
        return
    assert after in appends(b)
    # ``after`` came right after ``value``, or nobody read it and ``value`` is the last read.
    before = longest[longest.index(after) - 1] if after in longest[1:] else None
    if after not in longest:
        before = longest[-1] if longest else None
    assert before == value, (step, longest)
    if step["type"] == "ww":
        assert value in appends(a)
    else:
        last = [v[-1] if v else None for f, k, v in a["value"] if f == "r" and k == key]
        assert value in last
