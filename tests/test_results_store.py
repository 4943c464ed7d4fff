"""The one results store: one stamp, a base name claimed for all of a run's files, whole files or
none, and the result written left as it was. Runs are real races, sweeps, calibrations and
anomaly suites on the test's database."""

from __future__ import annotations

import copy
import errno
import json
import os
import re
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from test_race_support import url_text

from concord import __version__
from concord.anomalies import run_suite, suite_document
from concord.anomalies import write_results as write_anomalies
from concord.calibrate import Calibration, calibrate, write_report
from concord.race import Experiment, RaceResult, run_experiment, write_results
from concord.reports import files as store
from concord.sweeps import Sweep, run_sweep, write_sweep

RC = "read committed"


@pytest.fixture
def race(database_url) -> RaceResult:
    experiment = Experiment(
        scenario="counter", strategies=("none", "pessimistic"), isolations=(RC,), workers=(2,), ops=20
    )
    return run_experiment(experiment, database_url=url_text(database_url))


def everything_under(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder``, hidden ones too, by path relative to it."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_every_kind_of_start_time_gives_the_same_utc_stamp():
    moment = datetime(2026, 12, 4, 22, 18, 34, 123456, tzinfo=UTC)
    assert {
        store.stamp("2026-12-04T22:18:34Z"),  # race, sweep, calibrate
        store.stamp("2026-12-04T22:18:34.123456+00:00"),  # anomalies
        store.stamp("2026-12-04T23:18:34+01:00"),  # a local time is turned into UTC
        store.stamp("2026-12-04T22:18:34"),  # no offset: taken as UTC
        store.stamp(moment),
        store.stamp(moment.astimezone(timezone(timedelta(hours=-5)))),
    } == {"20261204T221834Z"}


def test_two_races_that_started_in_the_same_second_write_two_sets_of_files_and_overwrite_neither(
    race, tmp_path
):
    stamp = race.started_at.replace(":", "").replace("-", "")
    first = write_results(race, tmp_path)
    written = everything_under(tmp_path)
    second = write_results(race, tmp_path)  # same started_at: the second run of that second

    assert second == {
        "json": str(tmp_path / "results" / f"{stamp}-counter-2.json"),
        "csv": str(tmp_path / "results" / f"{stamp}-counter-2.csv"),
        "md": str(tmp_path / "results" / f"{stamp}-counter-2.md"),
        "traces": str(tmp_path / "logs" / f"{stamp}-counter-2.jsonl"),
    }
    assert first["json"] == str(tmp_path / "results" / f"{stamp}-counter.json")
    after = everything_under(tmp_path)
    assert {k: v for k, v in after.items() if k in written} == written  # the first set is untouched
    assert len(after) == 8
    for files in (first, second):  # each document names its own files
        document = json.loads(Path(files["json"]).read_text())
        assert document["files"] == files
        assert {cell["trace"]["file"] for cell in document["cells"]} == {files["traces"]}
        assert [cell["trace"]["cell"] for cell in document["cells"]] == [0, 1]


def test_writing_a_race_leaves_it_unchanged_and_the_document_printed_with_its_files_is_the_one_written(
    race, tmp_path
):
    before = copy.deepcopy(race)

    files = write_results(race, tmp_path)

    assert race == before
    assert race.files == {}
    assert all("file" not in cell.trace for cell in race.cells)
    # what `concord race --json` prints: the result as written, with its files
    printed = replace(race, files=files).document()
    assert json.loads(Path(files["json"]).read_text()) == printed


def test_writing_a_sweep_a_calibration_or_an_anomalies_document_changes_none_of_them(database_url, tmp_path):
    url = url_text(database_url)
    sweep = run_sweep(
        Sweep(Experiment(scenario="counter", strategies=("pessimistic",), workers=(1,), ops=10), 1),
        database_url=url,
    )
    report = calibrate(
        Calibration(workers=(1,), executors=("threads",), duration_s=1, rounds=1).validated(),
        database_url=url,
    )
    anomalies = suite_document(run_suite(url, only=["G0"], isolations=[RC]), version=__version__)
    before = copy.deepcopy((sweep, report, anomalies))

    swept = write_sweep(sweep, tmp_path)
    calibrated = write_report(report, tmp_path)
    found = write_anomalies(anomalies, tmp_path / "results")

    assert (sweep, report, anomalies) == before
    assert json.loads(Path(swept["json"]).read_text())["files"] == swept
    assert json.loads(Path(calibrated).read_text())["files"] == {"json": calibrated}
    assert json.loads(found.read_text()) == anomalies
    stamps = {Path(p).name[:16] for p in (swept["json"], calibrated, found)}
    assert all(re.fullmatch(r"\d{8}T\d{6}Z", s) for s in stamps), stamps


def test_a_write_that_fails_leaves_no_file_of_the_run_and_saves_the_document_elsewhere(
    race, tmp_path, monkeypatch
):
    real_replace = os.replace

    def read_only_for_markdown(source, target):
        if str(target).endswith(".md"):  # the last file of the four: the other three were in place
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), source, target)
        real_replace(source, target)

    store.check_writable(tmp_path / "results", tmp_path / "logs")
    monkeypatch.setattr(store.os, "replace", read_only_for_markdown)

    with pytest.raises(store.ResultsNotWritten) as failed:
        write_results(race, tmp_path)

    monkeypatch.undo()
    stamp = race.started_at.replace(":", "").replace("-", "")
    match = re.fullmatch(
        rf"could not write the results \({re.escape(str(tmp_path / 'results'))}/{stamp}-counter\.md: "
        r"Read-only file system\); the result document is saved in (/\S+\.json)",
        failed.value.message,
    )
    assert match, failed.value.message
    saved = Path(match[1])
    kept = json.loads(saved.read_text())
    saved.unlink()
    assert kept == json.loads(json.dumps(race.document()))
    assert everything_under(tmp_path) == {}  # no half-written file, no orphan of the run, no temporary


def test_a_name_taken_by_another_file_moves_every_file_of_the_run_to_the_next_number(race, tmp_path):
    stamp = race.started_at.replace(":", "").replace("-", "")
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / f"{stamp}-counter.jsonl").write_text("someone else's\n")

    files = write_results(race, tmp_path)

    assert {Path(p).stem for p in files.values()} == {f"{stamp}-counter-2"}
    assert (tmp_path / "logs" / f"{stamp}-counter.jsonl").read_text() == "someone else's\n"
    assert sorted(p.name for p in (tmp_path / "results").iterdir()) == [
        f"{stamp}-counter-2.{ext}" for ext in ("csv", "json", "md")
    ]


def test_runs_that_write_at_the_same_moment_with_one_stamp_each_keep_their_own_file(tmp_path):
    runs = 8
    start = threading.Barrier(runs)
    written: dict[int, str] = {}

    def one_run(n: int) -> None:
        start.wait()  # all claim the same names at once
        written[n] = store.write_run(
            "anomalies",
            "2026-12-04T22:18:34Z",
            {"json": (tmp_path, ".json")},
            lambda files: {"json": store.json_text({"run": n})},
            lambda: {"run": n},
        )["json"]

    threads = [threading.Thread(target=one_run, args=(n,)) for n in range(runs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(Path(p).name for p in written.values()) == sorted(
        ["20261204T221834Z-anomalies.json"]
        + [f"20261204T221834Z-anomalies-{n}.json" for n in range(2, runs + 1)]
    )
    assert {n: json.loads(Path(p).read_text()) for n, p in written.items()} == {
        n: {"run": n} for n in range(runs)
    }


def test_an_interrupt_while_the_files_are_written_leaves_none_of_them_and_keeps_the_document(
    race, tmp_path, monkeypatch, capsys
):
    real_replace = os.replace

    def interrupted_at_the_markdown(source, target):
        if str(target).endswith(".md"):  # Ctrl-C lands while the last of the four files is written
            raise KeyboardInterrupt
        real_replace(source, target)

    monkeypatch.setattr(store.os, "replace", interrupted_at_the_markdown)
    with pytest.raises(KeyboardInterrupt):
        write_results(race, tmp_path)
    monkeypatch.undo()

    said = capsys.readouterr().err.strip()
    match = re.fullmatch(
        r"concord: interrupted while writing the results; the result document is saved in (/\S+\.json)", said
    )
    assert match, said
    saved = Path(match[1])
    kept = json.loads(saved.read_text())
    saved.unlink()
    assert kept == json.loads(json.dumps(race.document()))
    assert everything_under(tmp_path) == {}
