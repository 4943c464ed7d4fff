"""Read an Elle history (a JSON array, or JSON Lines) and validate it for one model.

Validation comes first because a malformed history produces false anomalies: a duplicate
appended value breaks the version order, a completion without its invocation has no
transaction, a micro-operation of the wrong shape means nothing. Any of these raises
`MalformedHistory` naming the operation, and nothing is checked.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from concord.history.model import (
    FAIL,
    INFO,
    INVOKE,
    MODELS,
    OK,
    MalformedHistory,
    Mop,
    Txn,
    check_model,
    gc_paused,
)

_TYPES = (INVOKE, OK, FAIL, INFO)


@dataclass(frozen=True)
class History:
    """A validated history: its transactions in completion order, and the model they follow."""

    model: str
    txns: list[Txn]
    operations: int  # operations read from the file (invocations and completions)


def load_history(path: Path | str, model: str = "list-append") -> History:
    """Read and validate the history in ``path`` (a JSON array, or one operation per line)."""
    check_model(model)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise MalformedHistory(f"cannot read {path}: {exc}") from exc
    with gc_paused():
        return parse_history(parse_json(text, str(path)), model)


def parse_json(text: str, source: str = "history") -> list[Any]:
    """The operations of a JSON array, or of JSON Lines (one object per line)."""
    stripped = text.lstrip()
    if not stripped:
        raise MalformedHistory(f"{source} is empty")
    if stripped[0] == "[":
        try:
            ops = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise MalformedHistory(f"{source} is not JSON: {exc}") from exc
        return ops
    ops = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            try:
                ops.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise MalformedHistory(f"{source} line {number} is not JSON: {exc.msg}") from exc
    return ops


def parse_history(ops: Any, model: str = "list-append") -> History:
    """Pair invocations with completions and validate every micro-operation for ``model``."""
    check_model(model)
    if not isinstance(ops, list):
        raise MalformedHistory("a history is a list of operations (a JSON array or JSON Lines)")
    # Jepsen's fault injector runs as process "nemesis": its operations are no transactions.
    client = [(p, op) for p, op in enumerate(ops) if type(op) is not dict or op.get("process") != "nemesis"]
    for position, op in client:
        _check_op(position, op)
    txns = list(_pair(client, model))
    _check_unique_writes(txns, model)
    return History(model, txns, len(ops))


def _check_op(position: int, op: Any) -> None:
    where = f"operation {position}"
    if not isinstance(op, dict):
        raise MalformedHistory(f"{where} is not a JSON object")
    for needed in ("type", "process", "value"):
        if needed not in op:
            if needed == "value" and op.get("type") in (FAIL, INFO):
                continue  # a failed or unknown completion may leave its value to the invocation
            raise MalformedHistory(f"{where} has no {needed!r}")
    if op["type"] not in _TYPES:
        raise MalformedHistory(f"{where} has type {op['type']!r}: expected one of {', '.join(_TYPES)}")


def _pair(client: list[tuple[int, dict]], model: str) -> Iterable[Txn]:
    """Completed transactions, in completion order; an invocation never completed is ``info``."""
    paired = any(op["type"] == INVOKE for _, op in client)
    open_: dict[Any, tuple[int, dict]] = {}
    count = 0
    for position, op in client:
        process, kind = _hashable(op["process"], position), op["type"]
        if kind == INVOKE:
            if process in open_:
                raise MalformedHistory(
                    f"operation {position}: process {process!r} invoked a transaction while its "
                    f"invocation at operation {open_[process][0]} had not completed"
                )
            open_[process] = (position, op)
            continue
        invoke = open_.pop(process, None)
        if paired and invoke is None:
            raise MalformedHistory(
                f"operation {position}: a {kind!r} completion of process {process!r} without an invocation"
            )
        value = op.get("value") if op.get("value") is not None else (invoke[1]["value"] if invoke else None)
        mops = _mops(value, model, position, kind)
        invoked = _index(invoke[1], invoke[0]) if invoke else None
        yield Txn(count, _index(op, position), process, kind, mops, op, invoked)
        count += 1
    for position, pending in open_.values():  # never completed: it may or may not have committed
        mops = _mops(pending["value"], model, position, INFO)
        op = {**pending, "type": INFO}
        yield Txn(count, _index(pending, position), pending["process"], INFO, mops, op, None)
        count += 1


def _index(op: dict, position: int) -> int:
    index = op.get("index", position)
    if not isinstance(index, int) or isinstance(index, bool):
        raise MalformedHistory(f"operation {position} has index {index!r}: expected an integer")
    return index


def _hashable(value: Any, position: int) -> Any:
    if isinstance(value, (int, str)) and not isinstance(value, bool):
        return value
    raise MalformedHistory(f"operation {position} has process {value!r}: expected an integer or a string")


def _mops(value: Any, model: str, position: int, kind: str) -> tuple[Mop, ...]:
    """The micro-operations, validated; reads of lists become tuples. The checks are inlined
    (``type(x) is int`` also refuses booleans): this runs for every operation of the file."""
    if type(value) is not list:
        raise MalformedHistory(f"operation {position}: a transaction's value is a list of micro-operations")
    fs, lists = MODELS[model], model == "list-append"
    mops = []
    for number, mop in enumerate(value):
        if type(mop) is not list or len(mop) != 3 or mop[0] not in fs:
            _bad_mop(mop, model, position, number)
        f, key, v = mop
        if type(key) is not int and type(key) is not str:
            _bad_mop(mop, model, position, number, "key")
        if f == "r" and v is not None and lists:
            if type(v) is not list or not all(type(e) is int or type(e) is str for e in v):
                _bad_mop(mop, model, position, number, "read")
            v = tuple(v)
        elif (f != "r" or v is not None) and type(v) is not int and type(v) is not str:
            _bad_mop(mop, model, position, number, "value")
        mops.append((f, key, v))
    return tuple(mops)


def _bad_mop(mop: Any, model: str, position: int, number: int, part: str = "") -> None:
    where = f"operation {position}, micro-operation {number}"
    if part == "key":
        raise MalformedHistory(f"{where} has key {json.dumps(mop[1])}: expected an integer or a string")
    if part == "read":
        raise MalformedHistory(f"{where} read {json.dumps(mop[2])}: expected null or a list of values")
    if part == "value":
        raise MalformedHistory(f"{where} has value {json.dumps(mop[2])}: expected an integer or a string")
    shape = ", ".join(repr(f) for f in MODELS[model])
    raise MalformedHistory(f"{where} is {json.dumps(mop)}: {model} expects [{shape}, key, value]")


def _check_unique_writes(txns: list[Txn], model: str) -> None:
    """Appended (or written) values must be unique per key: the version order rests on it."""
    write = "append" if model == "list-append" else "w"
    seen: dict[tuple[Any, Any], Txn] = {}
    for txn in txns:
        for f, key, v in txn.mops:
            if f == write:
                first = seen.setdefault((key, v), txn)
                if first is not txn or _writes(txn, write, key, v) > 1:
                    raise MalformedHistory(
                        f"value {v!r} was {'appended' if write == 'append' else 'written'} to key {key!r} "
                        f"twice (operations {first.index} and {txn.index}): values must be unique per key"
                    )


def _writes(txn: Txn, write: str, key: Any, v: Any) -> int:
    return sum(1 for f, k, value in txn.mops if f == write and k == key and value == v)
