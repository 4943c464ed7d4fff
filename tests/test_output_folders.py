"""Where results go is checked before a run, and a run's document survives a write that fails at the end."""

from __future__ import annotations

import errno
import json
import os
import re
import tempfile
from pathlib import Path

import pytest
from cli_runner import on, run

from concord.reports import store

NOWHERE = "postgresql://postgres@127.0.0.1:1/nowhere"  # any connection attempt would fail
RACE = ("race", "--scenario", "counter", "--strategy", "pessimistic", "--isolation", "read committed")
COMMANDS = {
    "race": ((*RACE, "--workers", "1", "--ops", "5"), "results"),
    "race logs": ((*RACE, "--workers", "1", "--ops", "5"), "logs"),
    "sweep": (("sweep", "--scenario", "counter", "--strategy", "pessimistic", "--ops", "5"), "results"),
    "anomalies": (("anomalies", "--only", "P4", "--isolation", "read committed"), "results"),
}


@pytest.mark.parametrize("name", COMMANDS)
def test_a_file_in_the_way_of_the_results_fails_the_command_before_it_connects(tmp_path, name):
    args, folder = COMMANDS[name]
    target = tmp_path / "out" / folder if folder else tmp_path / "out"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("not a folder")
    out = tmp_path / "out" if folder else target

    result = run(*args, "--out", str(out), "--database-url", NOWHERE)

    # Had the run started, the message would be about the unreachable database instead.
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == f"concord: cannot write results in {target}: it is a file, not a folder\n"


def test_calibrate_checks_the_results_folder_of_the_working_directory_first(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "results").write_text("not a folder")

    result = run("calibrate", "--workers", "1", "--duration", "1", "--rounds", "1", "--database-url", NOWHERE)

    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == "concord: cannot write results in results: it is a file, not a folder\n"


def test_a_folder_below_a_file_is_named_by_the_file_in_the_way(tmp_path):
    (tmp_path / "out").write_text("not a folder")

    with pytest.raises(store.OutputUnwritable) as refused:
        store.check_writable(tmp_path / "out" / "results")

    assert refused.value.message == (
        f"cannot write results in {tmp_path / 'out' / 'results'}: {tmp_path / 'out'} is a file, not a folder"
    )


def test_a_race_whose_results_cannot_be_written_at_the_end_saves_its_document_elsewhere_and_says_where(
    database_url, tmp_path, monkeypatch
):
    def disk_full(path, cells):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr("concord.race.writers.write_csv", disk_full)  # after the check, at the end

    result = on(database_url, *RACE, "--workers", "2", "--ops", "5", "--out", str(tmp_path))

    match = re.fullmatch(
        rf"concord: could not write the results \({re.escape(str(tmp_path))}/results/\S+-counter\.csv: "
        r"No space left on device\); "
        r"the result document is saved in (/\S+\.json)\n",
        result.stderr,
    )
    assert (result.exit_code, result.stdout) == (1, ""), result.stderr
    assert match, result.stderr
    saved = Path(match[1])
    document = json.loads(saved.read_text())
    saved.unlink()
    assert [(c["strategy"], c["workers"], c["commits"]) for c in document["cells"]] == [("pessimistic", 2, 5)]


def test_when_no_copy_can_be_saved_either_the_message_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "missing"))
    monkeypatch.setenv("HOME", str(tmp_path / "missing"))

    with pytest.raises(store.ResultsNotWritten) as failed, store.kept_on_failure(lambda: {"cells": []}, "x"):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "/out/results/x.json")

    assert failed.value.message == (
        "could not write the results (/out/results/x.json: No space left on device); "
        "no copy could be saved either"
    )
