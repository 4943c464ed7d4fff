"""An independent reading of a list-append history, to confirm the checker's cycles step by step."""

from __future__ import annotations


def confirm(step: dict, a: dict, b: dict, ops: list[dict]) -> None:
    """Check one step of a cycle against the raw history, without the checker's indices."""
    key, value, after = step["key"], step.get("value"), step.get("value'")
    reads = [v for op in ops if op["type"] == "ok" for f, k, v in op["value"] if f == "r" and k == key and v]
    # With incompatible reads (one reader's own appends against another's) the version order is
    # the checker's pick among the longest reads: the step must follow from one of them.
    most = max(map(len, reads), default=0)
    candidates = [read for read in reads if len(read) == most] or [[]]
    appends = lambda op: [v for f, k, v in op["value"] if f == "append" and k == key]  # noqa: E731
    if step["type"] == "wr":
        assert value in appends(a)
        assert any(f == "r" and k == key and v and v[-1] == value for f, k, v in b["value"])
        return
    assert after in appends(b)
    # ``after`` came right after ``value``, or nobody read it and ``value`` is the last read.
    assert any(_before(after, longest) == value for longest in candidates), (step, candidates)
    if step["type"] == "ww":
        assert value in appends(a)
    else:
        last = [v[-1] if v else None for f, k, v in a["value"] if f == "r" and k == key]
        assert value in last


def _before(after: object, longest: list) -> object:
    """What came right before ``after`` in the order ``longest`` (its last if it holds no ``after``)."""
    if after in longest[1:]:
        return longest[longest.index(after) - 1]
    if after not in longest:
        return longest[-1] if longest else None
    return None
