"""`concord history check` as a user runs it: verdicts, exit codes, drawings, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_runner import run

WRITE_SKEW = [
    {"index": 0, "process": 0, "type": "invoke", "value": [["append", 633, 3], ["r", 632, None]]},
    {"index": 1, "process": 1, "type": "invoke", "value": [["append", 632, 2], ["r", 633, None]]},
    {"index": 2, "process": 0, "type": "ok", "value": [["append", 633, 3], ["r", 632, None]]},
    {"index": 3, "process": 1, "type": "ok", "value": [["append", 632, 2], ["r", 633, None]]},
    {"index": 4, "process": 0, "type": "invoke", "value": [["r", 632, None], ["r", 633, None]]},
    {"index": 5, "process": 0, "type": "ok", "value": [["r", 632, [2]], ["r", 633, [3]]]},
]
SERIAL = [
    {"index": 0, "process": 0, "type": "invoke", "value": [["append", 1, 1], ["r", 1, None]]},
    {"index": 1, "process": 0, "type": "ok", "value": [["append", 1, 1], ["r", 1, [1]]]},
    {"index": 2, "process": 1, "type": "invoke", "value": [["r", 1, None], ["append", 1, 2]]},
    {"index": 3, "process": 1, "type": "ok", "value": [["r", 1, [1]], ["append", 1, 2]]},
]


def write(tmp_path: Path, ops, name: str = "history.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(ops) if not isinstance(ops, str) else ops, encoding="utf-8")
    return path


def test_check_says_a_serial_history_is_valid_and_exits_0(tmp_path):
    outcome = run("history", "check", str(write(tmp_path, SERIAL)), "--json")
    assert outcome.exit_code == 0, outcome.stderr
    assert outcome.json()["valid?"] is True


def test_check_reports_write_skew_as_g2_item_and_exits_1_like_elle_cli(tmp_path):
    outcome = run("history", "check", str(write(tmp_path, WRITE_SKEW)), "--json")
    assert outcome.exit_code == 1
    document = outcome.json()
    assert (document["valid?"], document["anomaly-types"], document["not"]) == (
        False,
        ["G2-item"],
        ["repeatable-read"],
    )
    [case] = document["anomalies"]["G2-item"]
    assert sorted(op["index"] for op in case["cycle"][:-1]) == [2, 3]


def test_check_explains_the_cycle_on_the_terminal(tmp_path):
    outcome = run("history", "check", str(write(tmp_path, WRITE_SKEW)))
    assert outcome.exit_code == 1
    assert "G2-item" in outcome.stdout
    assert "read key 632 empty" in outcome.stdout and "a contradiction!" in outcome.stdout


def test_check_reads_json_lines_too(tmp_path):
    lines = "\n".join(json.dumps(op) for op in WRITE_SKEW) + "\n"
    outcome = run("history", "check", str(write(tmp_path, lines, "history.jsonl")), "--json")
    assert outcome.json()["anomaly-types"] == ["G2-item"]


def test_check_draws_the_cycle_as_dot_and_mermaid(tmp_path):
    dot = tmp_path / "cycles.dot"
    history = str(write(tmp_path, WRITE_SKEW))
    assert run("history", "check", history, "--dot", str(dot), "--json").exit_code == 1
    text = dot.read_text()
    assert text.startswith("digraph") and 'label="rw 632", style=dashed' in text
    mermaid = run("history", "check", history, "--mermaid")
    assert mermaid.stdout.startswith("flowchart LR")
    assert '-.->|"rw 633"|' in mermaid.stdout


def test_a_model_that_allows_the_anomaly_finds_the_history_valid(tmp_path):
    history = str(write(tmp_path, WRITE_SKEW))
    outcome = run("history", "check", history, "--consistency-models", "read-committed", "--json")
    # As in Elle, anomalies the chosen models allow are not reported.
    assert (outcome.exit_code, outcome.json()["valid?"]) == (0, True)


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        ("not json at all", (), "is not JSON"),
        (json.dumps(SERIAL), ("--model", "bank"), "unknown model 'bank'"),
        (json.dumps([{"process": 0, "value": []}]), (), "operation 0 has no 'type'"),
        (json.dumps([{"process": 0, "type": "ok", "value": [["append", 1]]}]), (), "micro-operation 0"),
        (
            json.dumps(
                [
                    {"process": 0, "type": "ok", "value": [["append", 1, 5]]},
                    {"process": 1, "type": "ok", "value": [["append", 1, 5]]},
                ]
            ),
            (),
            "value 5 was appended to key 1 twice",
        ),
        ("[1, 2]", (), "operation 0 is not a JSON object"),
        (json.dumps([{"process": 0, "type": "ok", "value": [["r", 1, [9]]]}]), (), "no operation appended"),
        (json.dumps(SERIAL), ("--consistency-models", "snapshot"), "unknown consistency model"),
    ],
)
def test_bad_input_is_one_line_on_stderr_and_exit_2(tmp_path, content, args, message):
    outcome = run("history", "check", str(write(tmp_path, content)), *args)
    assert outcome.exit_code == 2
    [line] = outcome.stderr.splitlines()
    assert line.startswith("concord: ") and message in line
    assert "Traceback" not in outcome.stderr and outcome.stdout == ""


def test_a_missing_file_is_one_line_and_exit_2(tmp_path):
    outcome = run("history", "check", str(tmp_path / "nowhere.json"))
    assert outcome.exit_code == 2
    assert outcome.stderr.startswith("concord: cannot read")


def test_shrink_keeps_only_the_transactions_of_the_cycle(tmp_path):
    noise = [
        {
            "process": 10 + i,
            "type": kind,
            "value": [["append", 9, i], ["r", 9, None if kind == "invoke" else [i]]],
        }
        for i in range(5)
        for kind in ("invoke", "ok")
    ]
    history = write(tmp_path, noise + WRITE_SKEW)
    out = tmp_path / "cycle.json"
    outcome = run("history", "shrink", str(history), "--out", str(out))
    assert outcome.exit_code == 0, outcome.stderr
    kept = json.loads(out.read_text())
    assert sorted(op["index"] for op in kept if op["type"] == "ok") == [2, 3]
    assert "kept 2 of 8 transactions" in outcome.stderr
    assert run("history", "check", str(out), "--json").json()["anomaly-types"] == ["G2-item"]


def test_shrink_without_a_cycle_says_so_in_one_line(tmp_path):
    outcome = run("history", "shrink", str(write(tmp_path, SERIAL)), "--out", str(tmp_path / "x.json"))
    assert outcome.exit_code == 1
    assert outcome.stderr.strip() == "concord: the history has no dependency cycle to shrink to"
    assert not (tmp_path / "x.json").exists()
