"""`concord --help` and `--version`: help that reads like a well-kept Typer command line."""

from __future__ import annotations

import pytest
from cli_runner import run

from concord import __version__


def test_version_prints_the_version_and_exits_0():
    assert (run("--version").exit_code, run("--version").stdout) == (0, f"concord {__version__}\n")


@pytest.mark.parametrize("command", [[], ["race"], ["db", "reset"], ["task", "assign"], ["explain"]])
def test_flags_show_no_type_as_if_they_took_a_value(command):
    helped = run(*command, "--help")
    assert helped.exit_code == 0
    assert "--help" in helped.stdout
    assert "<bool>" not in helped.stdout


def test_a_docstring_paragraph_flows_as_one_paragraph_in_the_command_list():
    helped = run("--help", env={"COLUMNS": "200"})
    [seed] = [line for line in helped.stdout.splitlines() if "│ seed" in line]
    assert "users and one activity entry per task" in seed  # not broken where the source line broke
