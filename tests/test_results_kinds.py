"""`results list | show` and `plot` on the documents `concord anomalies` and `concord calibrate`
write into results/, made by real runs on the test's database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_runner import run
from rich.console import Console

from concord import __version__
from concord.anomalies import run_suite, suite_document, write_results
from concord.calibrate import Calibration, calibrate, write_report
from concord.plot.calibration import calibration_chart, draw_calibration
from concord.reports.store import KINDS, ResultUnreadable, list_results, load_result


@pytest.fixture
def anomalies_file(database_url, tmp_path) -> Path:
    url = database_url.render_as_string(hide_password=False)
    result = run_suite(url, only=["G0", "G2-item"], isolations=["read committed", "serializable"])
    return write_results(suite_document(result, version=__version__), tmp_path / "results")


@pytest.fixture
def calibrate_file(database_url, tmp_path) -> Path:
    plan = Calibration(workers=(1, 2), executors=("threads",), duration_s=1, rounds=1).validated()
    report = calibrate(plan, database_url=database_url.render_as_string(hide_password=False))
    return Path(write_report(report, tmp_path))


def test_list_shows_anomalies_and_calibrate_results_with_race_results(
    anomalies_file, calibrate_file, tmp_path
):
    found = {r.path.name: (r.kind, r.scenario, r.cells) for r in list_results(tmp_path)}
    assert found == {
        anomalies_file.name: ("anomalies", "-", 4),
        calibrate_file.name: ("calibrate", "counter", 2),
    }
    # Both times as the other results write them, so the list sorts them together.
    assert all(r.started_at.endswith("Z") and len(r.started_at) == 20 for r in list_results(tmp_path))


def test_show_prints_an_anomalies_result_as_the_matrix_of_verdicts(anomalies_file, tmp_path):
    outcome = run("results", "show", anomalies_file.stem, "--out", str(tmp_path))
    assert outcome.exit_code == 0, outcome.stderr
    assert "Isolation anomalies on PostgreSQL" in outcome.stdout
    rows = {line.split("│")[1].strip(): line for line in outcome.stdout.splitlines() if line.count("│") == 4}
    # Write skew happens at read committed and is stopped at serializable: what the server did.
    assert [cell.strip() for cell in rows["G2-item"].split("│")[2:4]] == ["possible", "prevented"]
    assert [cell.strip() for cell in rows["G0"].split("│")[2:4]] == ["prevented", "prevented"]


def test_show_json_of_an_anomalies_result_is_the_document(anomalies_file, tmp_path):
    outcome = run("results", "show", str(anomalies_file), "--json")
    assert outcome.json() == json.loads(anomalies_file.read_text())


def test_show_prints_a_calibrate_result_as_the_calibrate_table(calibrate_file, tmp_path):
    document = json.loads(calibrate_file.read_text())
    outcome = run("results", "show", calibrate_file.name, "--out", str(tmp_path))
    assert outcome.exit_code == 0, outcome.stderr
    assert "concord vs pgbench" in outcome.stdout
    table = [line.split() for line in outcome.stdout.splitlines() if line.strip()[:1].isdigit()]
    assert [(row[0], row[1]) for row in table] == [("1", "threads"), ("2", "threads")]
    assert [row[-2] for row in table] == [f"{r['ratio']:.2f}" for r in document["rows"]]


def test_plot_refuses_an_anomalies_result_in_one_line_with_exit_2(anomalies_file, tmp_path):
    outcome = run("plot", anomalies_file.stem, "--out", str(tmp_path), "-o", str(tmp_path / "x.png"))
    assert outcome.exit_code == 2
    assert outcome.stderr.strip().splitlines() == [
        f"concord: {anomalies_file.stem} is an anomalies result, a matrix of verdicts: nothing to plot "
        f"(`concord results show {anomalies_file.stem}` shows it)"
    ]
    assert not (tmp_path / "x.png").exists()


def test_plot_draws_a_calibrate_result_as_ratios_per_worker_count_and_executor(calibrate_file, tmp_path):
    document = json.loads(calibrate_file.read_text())
    fig = draw_calibration(document)
    [ax] = fig.axes
    [threads] = ax.containers
    assert threads.get_label() == "threads"
    assert list(threads.lines[0].get_ydata()) == pytest.approx([r["ratio"] for r in document["rows"]])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1 worker", "2 workers"]
    outcome = run("plot", str(calibrate_file), "-o", str(tmp_path / "calibrate.png"))
    assert outcome.exit_code == 0, outcome.stderr
    assert (tmp_path / "calibrate.png").read_bytes().startswith(b"\x89PNG")


def test_the_terminal_chart_of_a_calibrate_result_has_a_bar_per_row(calibrate_file):
    document = json.loads(calibrate_file.read_text())
    console = Console(width=80, record=True, color_system=None)
    console.print(calibration_chart(document))
    lines = console.export_text().splitlines()
    bars = [line for line in lines if "█" in line]
    assert [line.split()[:3] for line in bars] == [["1", "worker", "·"], ["2", "workers", "·"]]
    assert [line.split()[-1] for line in bars] == [f"{r['ratio']:.2f}" for r in document["rows"]]


def test_a_result_is_loaded_as_a_race_or_sweep_unless_other_kinds_are_asked_for(calibrate_file, tmp_path):
    with pytest.raises(ResultUnreadable, match="is a calibrate result; this takes a race or sweep result"):
        load_result(calibrate_file)  # what `concord report` does: its page is a race's or a sweep's
    assert load_result(calibrate_file, kinds=KINDS)["rows"]


def test_compare_two_anomalies_results_lists_the_verdicts_that_changed(anomalies_file, tmp_path):
    changed = json.loads(anomalies_file.read_text())
    [g2] = [c for c in changed["cells"] if (c["anomaly"], c["isolation"]) == ("G2-item", "read committed")]
    g2["verdict"] = "prevented"  # as if a run had not seen write skew at read committed
    other = tmp_path / "results" / "other-anomalies.json"
    other.write_text(json.dumps(changed))
    outcome = run("results", "compare", str(anomalies_file), str(other), "--json")
    assert outcome.exit_code == 0, outcome.stderr
    found = outcome.json()
    assert [c for c in found["cells"] if c["changed"]] == [
        {
            "anomaly": "G2-item",
            "variant": "write skew",
            "isolation": "read committed",
            "verdict_a": "possible",
            "verdict_b": "prevented",
            "changed": True,
        }
    ]
    assert len(found["cells"]) == 4 and found["only_in_a"] == found["only_in_b"] == []
    human = run("results", "compare", str(anomalies_file), str(other))
    assert "verdicts changed: 1; the same: 3" in human.stdout


def test_compare_two_calibrate_results_gives_the_change_in_ratio(calibrate_file, tmp_path):
    document = json.loads(calibrate_file.read_text())
    other = tmp_path / "results" / "other-calibrate.json"
    other.write_text(json.dumps({**document, "rows": document["rows"][:1]}))
    outcome = run("results", "compare", str(calibrate_file), str(other), "--json")
    assert outcome.exit_code == 0, outcome.stderr
    [row] = outcome.json()["rows"]
    ratio = document["rows"][0]["ratio"]
    assert row == {
        "workers": 1,
        "executor": "threads",
        "ratio_a": ratio,
        "ratio_b": ratio,
        "change": 0.0,
        "note": "spread unknown",  # one round each
    }
    assert outcome.json()["only_in_a"] == [[2, "threads"]]


def test_compare_refuses_two_results_of_different_kinds_in_one_line(anomalies_file, calibrate_file):
    outcome = run("results", "compare", str(anomalies_file), str(calibrate_file))
    assert outcome.exit_code == 2
    assert outcome.stderr.strip().splitlines() == [
        "concord: cannot compare an anomalies result with a calibrate result"
    ]
